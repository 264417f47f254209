#!/usr/bin/env bash
# Builds the real Kubernetes control plane the actuator tests run against, into <repo>/.cache/bin:
#
#   kube-apiserver, kube-controller-manager   k8s.io/kubernetes (pinned below)
#   etcd                                      go.etcd.io/etcd/server/v3, the version Kubernetes requires
#
# from the Go module in scripts/kubernetes/ (go.mod + go.sum committed, so the build is
# reproducible: it requires k8s.io/kubernetes and replaces each k8s.io/* staging module with its
# published v0.Y.Z twin). Debian's etcd-server (3.4) is too old: Kubernetes 1.34 needs etcd >= 3.5.
#
# Idempotent: stamped with the versions and the hash of go.mod/go.sum, skipped when they match.
# `--force` (or MEDIC_PROVISION_FORCE=1) rebuilds; Go's build cache is left alone, so a forced
# rebuild is mostly cached. Called by scripts/provision.sh; runs on its own too.
set -euo pipefail

KUBERNETES_VERSION="v1.34.4"   # must match scripts/kubernetes/go.mod (checked below)
ETCD_VERSION="v3.6.4"          # the go.etcd.io/etcd/server/v3 that Kubernetes $KUBERNETES_VERSION requires
MIN_GO="1.24"                  # k8s.io/kubernetes v1.34 declares go 1.24.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
MODULE_DIR="$ROOT/scripts/kubernetes"
source "$ROOT/scripts/lib/provision-common.sh"
provision_dirs "$ROOT/.cache"
STAMP="$BIN_DIR/kubernetes.version"
BINARIES=(kube-apiserver kube-controller-manager etcd)
parse_provision_args provision-kubernetes 2,13 "$@"

require_go "$MIN_GO" "Kubernetes $KUBERNETES_VERSION (kube-apiserver)"

grep -qE "^[[:space:]]*k8s.io/kubernetes $KUBERNETES_VERSION( |\$)" "$MODULE_DIR/go.mod" \
  || die "scripts/kubernetes/go.mod does not require k8s.io/kubernetes $KUBERNETES_VERSION (keep the two in step)"
grep -qE "^[[:space:]]*go.etcd.io/etcd/server/v3 $ETCD_VERSION( |\$)" "$MODULE_DIR/go.mod" \
  || die "scripts/kubernetes/go.mod does not require go.etcd.io/etcd/server/v3 $ETCD_VERSION (keep the two in step)"

# The stamp names the versions and the exact module (go.mod + go.sum), so any bump rebuilds.
module_hash="$(cat "$MODULE_DIR/go.mod" "$MODULE_DIR/go.sum" | sha256sum | cut -c1-16)"
want_stamp="kubernetes $KUBERNETES_VERSION etcd $ETCD_VERSION module $module_hash"

all_built() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || return 1; done
}
if [ "$FORCE" != "1" ] && all_built && stamp_is "$STAMP" "$want_stamp"; then
  say "kubernetes ready: $BIN_DIR/{kube-apiserver,kube-controller-manager,etcd} ($KUBERNETES_VERSION, etcd $ETCD_VERSION)"
  exit 0
fi

mkdir -p "$BIN_DIR" "$LOG_DIR"
# Own lock file: provision.sh already holds .cache/provision.lock, and flock on a second open of
# that file would wait for ourselves.
take_lock 8 "$CACHE/kubernetes.lock" "Kubernetes build"
if [ "$LOCK_WAITED" = "1" ] && [ "$FORCE" != "1" ] && all_built && stamp_is "$STAMP" "$want_stamp"; then
  say "kubernetes ready (built by the other run): $BIN_DIR"
  exit 0
fi

BUILD_PID=""
BUILD_DIR=""
cleanup() {
  if [ -n "$BUILD_PID" ] && kill -0 "$BUILD_PID" 2>/dev/null; then
    kill -TERM -- "-$BUILD_PID" 2>/dev/null || kill "$BUILD_PID" 2>/dev/null || true
  fi
  [ -n "$BUILD_DIR" ] && rm -rf "$BUILD_DIR"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BUILD_DIR="$(mktemp -d "$BIN_DIR/.kubernetes-build.XXXXXX")"
build_log="$LOG_DIR/kubernetes-build.log"
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
# The release build's version stamps (so /version and the components' skew checks see the real
# version, not v0.0.0-master), stripped (-s -w) and path-independent (-trimpath).
vpkg="k8s.io/component-base/version"
ldflags="-s -w -X $vpkg.gitVersion=$KUBERNETES_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean"
say "building kube-apiserver, kube-controller-manager $KUBERNETES_VERSION and etcd $ETCD_VERSION with Go (first run only: many minutes on $(nproc 2>/dev/null || echo ?) cores; log: $build_log)…"
setsid_cmd=()
command -v setsid >/dev/null 2>&1 && setsid_cmd=(setsid)
(
  cd "$MODULE_DIR"
  # -mod=readonly: the committed go.sum is the whole truth; one `go build` compiles the shared
  # packages once for all three binaries. etcd's main package is the server module's root, whose
  # binary Go names "server".
  CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" exec "${setsid_cmd[@]+"${setsid_cmd[@]}"}" \
    go build -trimpath -ldflags "$ldflags" -o "$BUILD_DIR/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager go.etcd.io/etcd/server/v3
) 8>&- 9>&- >"$build_log" 2>&1 &
BUILD_PID=$!
started=$SECONDS
wait_with_heartbeat "$BUILD_PID" "Kubernetes" "$started"
BUILD_PID=""
[ -x "$BUILD_DIR/server" ] && mv -f "$BUILD_DIR/server" "$BUILD_DIR/etcd"
for b in "${BINARIES[@]}"; do
  if [ "$build_rc" -ne 0 ] || [ ! -x "$BUILD_DIR/$b" ]; then
    tail -n 30 "$build_log" >&2
    die "building Kubernetes $KUBERNETES_VERSION / etcd $ETCD_VERSION failed (exit $build_rc; no $b; full log: $build_log)"
  fi
done
for b in "${BINARIES[@]}"; do mv -f "$BUILD_DIR/$b" "$BIN_DIR/$b"; done
echo "$want_stamp" >"$STAMP"
elapsed=$((SECONDS - started))
echo "built in ${elapsed}s on $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(go env GOVERSION), $(nproc 2>/dev/null || echo ?) cores" >>"$build_log"
say "built Kubernetes $KUBERNETES_VERSION and etcd $ETCD_VERSION in ${elapsed}s"
"$BIN_DIR/kube-apiserver" --version >/dev/null 2>&1 \
  || die "$BIN_DIR/kube-apiserver does not run; rebuild with: bash scripts/provision-kubernetes.sh --force"
say "kubernetes ready: $BIN_DIR/{kube-apiserver,kube-controller-manager,etcd} ($KUBERNETES_VERSION, etcd $ETCD_VERSION)"

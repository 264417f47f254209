#!/usr/bin/env bash
# Builds medic's image without a Docker engine and checks it by running it (as root; Debian's
# buildah, podman and mmdebstrap, installed by apt-get when missing):
#
#   bash scripts/image.sh base    localhost/medic-node:24 (runtime base) and :24-build (with
#                                 python3, make, g++ for native modules): a Debian bookworm rootfs
#                                 from mmdebstrap + Node 24 from the npm registry (scripts/node.sh)
#                                 + npm + the unprivileged `node` user (uid 1000), podman-imported
#   bash scripts/image.sh build   buildah bud of the Dockerfile on those bases → localhost/medic:<version>
#   bash scripts/image.sh check   podman run of that image against a Temporal dev server on the host
#                                 network (.cache/bin/temporal): worker and app start as uid 1000,
#                                 /healthz and /readyz answer, a webhook starts an incident, and
#                                 the image holds no dev stand-ins, no tests and no compilers
#   bash scripts/image.sh         all three (opt-in: not part of `npm test`; ~10 min cold on 2 cores)
#
# The Dockerfile's bases default to the public node:24-bookworm(-slim) images; this script passes
# its own as build arguments, so nothing is pulled from an image registry.
# Env: MEDIC_IMAGE (default localhost/medic:<package.json version>), MEDIC_IMAGE_STORAGE_DRIVER
# (e.g. vfs, when overlay is unavailable), MEDIC_IMAGE_ISOLATION (buildah RUN isolation, default
# chroot), MEDIC_IMAGE_RUNTIME (podman's OCI runtime for the check, default runc when installed),
# MEDIC_IMAGE_CA_BUNDLE (CAs the build stages trust, default the machine's bundle).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=node.sh
source scripts/node.sh
# shellcheck source=lib/provision-common.sh
source scripts/lib/provision-common.sh

BASE_RUN="localhost/medic-node:24"
BASE_BUILD="localhost/medic-node:24-build"
BASE_REV="1"   # bump when the base recipe below changes
VERSION="$(node -p "require('./package.json').version")"
IMAGE="${MEDIC_IMAGE:-localhost/medic:$VERSION}"
LOGS="$ROOT/.cache/logs"
mkdir -p "$LOGS"

ROOTFS_TMP=""
trap '[ -z "$ROOTFS_TMP" ] || rm -rf "$ROOTFS_TMP"' EXIT

storage=()
[ -n "${MEDIC_IMAGE_STORAGE_DRIVER:-}" ] && storage=(--storage-driver "$MEDIC_IMAGE_STORAGE_DRIVER")
podman_() { podman "${storage[@]+"${storage[@]}"}" "$@"; }
buildah_() { buildah "${storage[@]+"${storage[@]}"}" "$@"; }

[ "$(id -u)" = "0" ] || die "image.sh runs rootful buildah/podman: run it as root"
need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing Debian packages: ${need[*]} (apt-get)…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" uidmap runc >"$LOGS/apt-image.log" 2>&1 \
    || { apt-get update >>"$LOGS/apt-image.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" uidmap runc >>"$LOGS/apt-image.log" 2>&1; } \
    || die "apt-get install ${need[*]} failed (log: $LOGS/apt-image.log)"
fi

# ---------------------------------------------------------------------------------------------
# base: Debian rootfs (mmdebstrap, the machine's apt sources) + Node 24 + npm + user node (1000)
# ---------------------------------------------------------------------------------------------
make_base() {
  make_base "$BASE_RUN" "ca-certificates" "node-$MEDIC_NODE24_VERSION-run-$BASE_REV" run
  make_base "$BASE_BUILD" "ca-certificates,python3,make,g++" "node-$MEDIC_NODE24_VERSION-build-$BASE_REV" build
  finish_build_base
}

# ---------------------------------------------------------------------------------------------
# build: buildah bud, on the local bases; the npm registry is reached from the host's network
# ---------------------------------------------------------------------------------------------
build() {
  # chroot isolation: RUN steps need no OCI runtime, cgroups or user namespaces (crun refuses this
  # machine's hybrid cgroup layout); MEDIC_IMAGE_ISOLATION=oci where those work.
  local isolation=(--isolation "${MEDIC_IMAGE_ISOLATION:-chroot}")
  say "buildah bud → $IMAGE (log: $LOGS/image-build.log)…"
  local started=$SECONDS
  if ! buildah_ bud --format docker --layers --network host "${isolation[@]+"${isolation[@]}"}" \
      --build-arg NODE_IMAGE="$BASE_BUILD" --build-arg NODE_RUNTIME_IMAGE="$BASE_RUN" \
      -t "$IMAGE" . >"$LOGS/image-build.log" 2>&1; then
    tail -n 30 "$LOGS/image-build.log" >&2
    die "buildah bud failed (log: $LOGS/image-build.log)"
  fi
  say "built $IMAGE in $((SECONDS - started))s: $(podman_ image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec) ($(podman_ image inspect --format '{{.Size}}' "$IMAGE") bytes)"
}

# ---------------------------------------------------------------------------------------------
# check: run the image as a user would, against a real Temporal dev server
# ---------------------------------------------------------------------------------------------
check() {
  bash scripts/image-check.sh "$IMAGE"
}

case "${1:-all}" in
  base) base ;;
  build) build ;;
  check) check ;;
  all) base; build; check ;;
  *) die "usage: bash scripts/image.sh [base|build|check|all]" ;;
esac

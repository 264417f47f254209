#!/usr/bin/env bash
# Builds the Temporal CLI (dev server: `temporal server start-dev`) from source with `go install`
# (pinned below) into $MEDIC_CACHE_DIR/bin/temporal (default <repo>/.cache), stamped with its
# version. Called by scripts/provision.sh (--all, which holds the provision lock) and, as the
# last resort, by scripts/provision-demo.sh (npm start); runs alone too.
#
# Idempotent: skipped when bin/temporal.version matches; `--force` or MEDIC_PROVISION_FORCE=1
# rebuilds. Go's build cache (~/.cache/go-build) is left alone, so a forced rebuild is mostly cached.
set -euo pipefail

TEMPORAL_CLI_VERSION="v1.5.1"          # needs Go >= 1.25; v1.6+ cannot be `go install`ed (replace lines)
TEMPORAL_CLI_MODULE="github.com/temporalio/cli"
MIN_GO="1.25"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CACHE="${MEDIC_CACHE_DIR:-$ROOT/.cache}"
BIN_DIR="$CACHE/bin"
LOG_DIR="$CACHE/logs"
CLI="$BIN_DIR/temporal"
CLI_STAMP="$BIN_DIR/temporal.version"

source "$ROOT/scripts/lib/provision-common.sh"
FORCE="${MEDIC_PROVISION_FORCE:-0}"
[ "${1:-}" = "--force" ] && FORCE=1

if [ "$FORCE" != "1" ] && [ -x "$CLI" ] && stamp_is "$CLI_STAMP" "$TEMPORAL_CLI_VERSION"; then
  exit 0 # fast path: already built
fi

command -v go >/dev/null 2>&1 || die "missing toolchain: go >= $MIN_GO (Temporal CLI $TEMPORAL_CLI_VERSION is built with it; https://go.dev/dl — Debian 12's golang-go is 1.19, too old)"
go_version="$(go env GOVERSION 2>/dev/null || true)"; go_version="${go_version#go}"
{ [ -n "$go_version" ] && version_ge "$go_version" "$MIN_GO"; } \
  || die "Temporal CLI $TEMPORAL_CLI_VERSION needs go >= $MIN_GO (found ${go_version:-unknown}; https://go.dev/dl)"

mkdir -p "$BIN_DIR" "$LOG_DIR"
BUILD_PID=""
build_dir="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
cleanup() {
  # the build runs in its own session (setsid): stop the whole tree when we are interrupted
  if [ -n "$BUILD_PID" ] && kill -0 "$BUILD_PID" 2>/dev/null; then
    kill -TERM -- "-$BUILD_PID" 2>/dev/null || kill "$BUILD_PID" 2>/dev/null || true
  fi
  rm -rf "$build_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building Temporal CLI $TEMPORAL_CLI_VERSION with go install (first run only, several minutes on $(nproc 2>/dev/null || echo ?) cores)…"
build_log="$LOG_DIR/temporal-cli-build.log"
# Same ldflags as the upstream release build, so `temporal --version` reports the real version
# (a plain `go install` says 0.0.0-DEV) and the binary is stripped (~1/3 smaller).
ldflags="-s -w -X $TEMPORAL_CLI_MODULE/temporalcli.Version=${TEMPORAL_CLI_VERSION#v}"
setsid_cmd=()
command -v setsid >/dev/null 2>&1 && setsid_cmd=(setsid)
(
  cd "$build_dir"
  GOBIN="$build_dir" GOWORK=off exec "${setsid_cmd[@]+"${setsid_cmd[@]}"}" go install -ldflags "$ldflags" \
    "$TEMPORAL_CLI_MODULE/cmd/temporal@$TEMPORAL_CLI_VERSION"
) 9>&- >"$build_log" 2>&1 &
BUILD_PID=$!
started=$SECONDS
wait_with_heartbeat "$BUILD_PID" "Temporal CLI" "$started"
BUILD_PID=""
if [ "$build_rc" -ne 0 ] || [ ! -x "$build_dir/temporal" ]; then
  tail -n 30 "$build_log" >&2
  die "building Temporal CLI $TEMPORAL_CLI_VERSION failed (exit $build_rc; full log: $build_log)"
fi
mv -f "$build_dir/temporal" "$CLI"
echo "$TEMPORAL_CLI_VERSION" >"$CLI_STAMP"
say "built Temporal CLI in $((SECONDS - started))s"

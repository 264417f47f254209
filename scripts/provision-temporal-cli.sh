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
source "$ROOT/scripts/lib/provision-common.sh"
provision_init provision-temporal-cli 2,8 "${MEDIC_CACHE_DIR:-$ROOT/.cache}" temporal "$@"   # OUT=bin/temporal

if [ "$FORCE" != "1" ] && [ -x "$OUT" ] && stamp_is "$STAMP" "$TEMPORAL_CLI_VERSION"; then
  exit 0 # fast path: already built
fi

require_go "$MIN_GO" "Temporal CLI $TEMPORAL_CLI_VERSION"

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
if [ "$build_rc" -ne 0 ]; then
  tail -n 30 "$build_log" >&2
  die "building Temporal CLI $TEMPORAL_CLI_VERSION failed (exit $build_rc; full log: $build_log)"
fi
install_built "$build_dir/temporal" "$OUT" "$STAMP" "$TEMPORAL_CLI_VERSION" "$build_log"
say "built Temporal CLI in $((SECONDS - started))s"

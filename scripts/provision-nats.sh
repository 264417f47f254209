#!/usr/bin/env bash
# Builds nats-server (NATS with JetStream: the event-bus intake and events-out tests run against it)
# from the Go module proxy into <repo>/.cache/bin/nats-server, stamped with its version. Called by
# scripts/provision.sh; runs alone too. github.com/nats-io/nats-server/v2's go.mod has no `replace`
# lines, so a plain `go install module@version` works.
#
# Idempotent: skipped when .cache/bin/nats-server.version matches; `--force` or
# MEDIC_PROVISION_FORCE=1 rebuilds (Go's build cache keeps that quick).
set -euo pipefail

NATS_VERSION="v2.15.3"
NATS_MODULE="github.com/nats-io/nats-server/v2"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$ROOT/scripts/lib/provision-common.sh"
provision_init provision-nats 2,8 "$ROOT/.cache" nats-server "$@"
NATS="$OUT"

if [ "$FORCE" != "1" ] && [ -x "$NATS" ] && stamp_is "$STAMP" "$NATS_VERSION"; then
  exit 0 # fast path: already built
fi

command -v go >/dev/null 2>&1 || die "missing toolchain: go (nats-server $NATS_VERSION is built with it; install from https://go.dev/dl)"

mkdir -p "$BIN_DIR" "$LOG_DIR"
build_dir="$(mktemp -d "$BIN_DIR/.nats-build.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
build_log="$LOG_DIR/nats-server-build.log"
say "building nats-server $NATS_VERSION with go install (first run only, about a minute)…"
started=$SECONDS
if ! (cd "$build_dir" && GOBIN="$build_dir" GOWORK=off CGO_ENABLED=0 \
      go install -ldflags "-s -w" "$NATS_MODULE@$NATS_VERSION") >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  die "building nats-server $NATS_VERSION failed (full log: $build_log)"
fi
[ -x "$build_dir/nats-server" ] || die "go install finished but produced no nats-server binary (log: $build_log)"
mv -f "$build_dir/nats-server" "$NATS"
echo "$NATS_VERSION" >"$STAMP"
say "built nats-server $NATS_VERSION in $((SECONDS - started))s"

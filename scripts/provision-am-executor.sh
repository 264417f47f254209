#!/usr/bin/env bash
# Builds prometheus-am-executor (the peer bench/compare-executor.ts runs side by side with medic)
# from its source in ../shared/peers/prometheus-am-executor (upstream e790986, BSD-3-Clause) into
# <repo>/.cache/bin/am-executor; its Go dependencies come from the Go module proxy. Called by
# `npm run bench:compare-executor`; runs alone too. Not part of `npm test`'s provisioning.
#
# Idempotent: skipped when .cache/bin/am-executor.version matches the source's checksum;
# `--force` or MEDIC_PROVISION_FORCE=1 rebuilds. The source dir is read-only, so the build runs
# on a copy in a temp dir, and the binary is moved into .cache/bin in one rename (other
# worktrees share .cache/bin).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SRC="${MEDIC_AM_EXECUTOR_SRC:-$ROOT/../../shared/peers/prometheus-am-executor}"
[ -d "$SRC" ] || SRC="$ROOT/../shared/peers/prometheus-am-executor"
MIN_GO="1.14"
source "$ROOT/scripts/lib/provision-common.sh"
provision_init provision-am-executor 2,10 "$ROOT/.cache" am-executor "$@"

[ -f "$SRC/go.mod" ] || die "prometheus-am-executor source not found (looked in $SRC; set MEDIC_AM_EXECUTOR_SRC)"
# The stamp is the upstream commit plus a checksum of the Go sources and module files.
sum="$(cd "$SRC" && find . -name '*.go' -o -name 'go.mod' -o -name 'go.sum' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
STAMP_VALUE="e790986 src-$sum"
if [ "$FORCE" != "1" ] && [ -x "$OUT" ] && stamp_is "$STAMP" "$STAMP_VALUE"; then
  exit 0 # fast path: already built
fi

require_go "$MIN_GO" prometheus-am-executor
mkdir -p "$BIN_DIR" "$LOG_DIR"
build_dir="$(mktemp -d "$BIN_DIR/.am-executor-build.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
cp -R "$SRC/." "$build_dir/src"
chmod -R u+w "$build_dir/src"
build_log="$LOG_DIR/am-executor-build.log"
say "building prometheus-am-executor (e790986) with go build…"
started=$SECONDS
run_logged "building prometheus-am-executor" "$build_log" "$build_dir/src" \
  env GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$build_dir/am-executor" .
install_built "$build_dir/am-executor" "$OUT" "$STAMP" "$STAMP_VALUE" "$build_log"
say "built prometheus-am-executor in $((SECONDS - started))s"

#!/usr/bin/env bash
# Builds VictoriaLogs (the log store the evidence pack's log source is tested against: a real
# LogsQL query API) from the Go module proxy into <repo>/.cache/bin/victoria-logs, stamped with
# its version. Called by scripts/provision.sh; runs alone too. Its go.mod has no `replace` lines,
# so a plain `go install module/app/victoria-logs@version` works (checked: v1.52.2 on go 1.26).
#
# Idempotent: skipped when .cache/bin/victoria-logs.version matches; `--force` or
# MEDIC_PROVISION_FORCE=1 rebuilds (Go's build cache keeps that quick). Other worktrees share
# .cache/bin, so the binary is moved into place in one rename (scripts/lib go_install_into).
set -euo pipefail

VL_VERSION="v1.52.2"
VL_MODULE="github.com/VictoriaMetrics/VictoriaLogs"
MIN_GO_VL="1.25"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BIN_DIR="$ROOT/.cache/bin"
VL="$BIN_DIR/victoria-logs"
STAMP="$BIN_DIR/victoria-logs.version"

FORCE="${MEDIC_PROVISION_FORCE:-0}"
[ "${1:-}" = "--force" ] && FORCE=1

source "$ROOT/scripts/lib/provision-common.sh"

if [ "$FORCE" != "1" ] && [ -x "$VL" ] && stamp_is "$STAMP" "$VL_VERSION"; then
  exit 0 # fast path: already built
fi

command -v go >/dev/null 2>&1 || die "missing toolchain: go >= $MIN_GO_VL (VictoriaLogs $VL_VERSION is built with it)"
go_version="$(go env GOVERSION)"; go_version="${go_version#go}"
version_ge "$go_version" "$MIN_GO_VL" || die "VictoriaLogs $VL_VERSION needs go >= $MIN_GO_VL (found $go_version)"

go_install_into victoria-logs "$VL_MODULE/app/victoria-logs@$VL_VERSION" "-s -w" "$VL" "$STAMP" "$VL_VERSION"

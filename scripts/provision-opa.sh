#!/usr/bin/env bash
# Builds the Open Policy Agent CLI (`opa`: the policy gate's server backend, `opa build -t wasm`
# for the in-process backend, `opa test` for policies/) from the Go module proxy into
# <repo>/.cache/bin/opa, stamped with its version. Called by scripts/provision.sh; runs alone too.
# github.com/open-policy-agent/opa's go.mod has no `replace` lines, so a plain
# `go install module@version` works.
#
# Idempotent: skipped when .cache/bin/opa.version matches; `--force` or MEDIC_PROVISION_FORCE=1
# rebuilds (Go's build cache keeps that quick). Other worktrees share .cache/bin, so the binary is
# moved into place in one rename.
set -euo pipefail

OPA_VERSION="v1.22.4"          # the newest v1.22.x the Go module proxy serves
OPA_MODULE="github.com/open-policy-agent/opa"
MIN_GO_OPA="1.25"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$ROOT/scripts/lib/provision-common.sh"
provision_init provision-opa 2,10 "$ROOT/.cache" opa "$@"   # OUT=.cache/bin/opa

if [ "$FORCE" != "1" ] && [ -x "$OUT" ] && stamp_is "$STAMP" "$OPA_VERSION"; then
  exit 0 # fast path: already built
fi

require_go "$MIN_GO_OPA" "opa $OPA_VERSION"

# The version upstream's release build stamps, so `opa version` reports it (not "dev").
go_install_into opa "$OPA_MODULE@$OPA_VERSION" "-s -w -X $OPA_MODULE/v1/version.Version=${OPA_VERSION#v}" "$OUT" "$STAMP" "$OPA_VERSION"

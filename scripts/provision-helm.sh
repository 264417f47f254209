#!/usr/bin/env bash
# Builds helm (the Helm chart in deploy/helm/medic is linted and rendered by the tests) from the
# Go module proxy into <repo>/.cache/bin/helm, stamped with its version. Called by
# scripts/provision.sh; runs alone too. helm.sh/helm/v3's go.mod has no `replace` lines, so a plain
# `go install module@version` works (checked: v3.19.5, v3.20.2, v3.21.4, v3.22.0; v3.21+ declare go 1.26).
#
# Idempotent: skipped when .cache/bin/helm.version matches; `--force` or MEDIC_PROVISION_FORCE=1
# rebuilds (Go's build cache keeps that quick).
set -euo pipefail

HELM_VERSION="v3.20.2"         # the newest v3 whose go.mod asks for no more than the Go the project needs (1.25)
HELM_MODULE="helm.sh/helm/v3"
MIN_GO_HELM="1.25"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$ROOT/scripts/lib/provision-common.sh"
provision_init provision-helm 2,8 "$ROOT/.cache" helm "$@"   # OUT=.cache/bin/helm

# The stamp also says the binary carries the Kubernetes version helm renders for (see below).
STAMP_VALUE="$HELM_VERSION kube-from-client-go"
if [ "$FORCE" != "1" ] && [ -x "$OUT" ] && stamp_is "$STAMP" "$STAMP_VALUE"; then
  exit 0 # fast path: already built
fi

require_go "$MIN_GO_HELM" "helm $HELM_VERSION"

# Same ldflags as upstream's Makefile: the real version for `helm version`, and the Kubernetes
# version `helm template`/`lint` assume (client-go v0.X.Y → 1.X), else helm defaults to 1.20
# and refuses charts with a newer kubeVersion.
mod_dir="$(mktemp -d)"
trap 'rm -rf "$mod_dir"' EXIT
gomod="$(cd "$mod_dir" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$HELM_MODULE@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
client_go="$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n1)"
[ -n "$client_go" ] || die "cannot read the k8s.io/client-go version from helm $HELM_VERSION's go.mod ($gomod)"
ldflags="-s -w -X $HELM_MODULE/internal/version.version=$HELM_VERSION"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags="$ldflags -X $HELM_MODULE/$pkg.k8sVersionMajor=1 -X $HELM_MODULE/$pkg.k8sVersionMinor=$client_go"
done
go_install_into helm "$HELM_MODULE/cmd/helm@$HELM_VERSION" "$ldflags" "$OUT" "$STAMP" "$STAMP_VALUE"
say "helm $HELM_VERSION renders for Kubernetes 1.$client_go"

#!/usr/bin/env bash
# Builds the production Temporal server — the multi-service `temporal-server` (frontend, history,
# matching, worker) from go.temporal.io/server — and its SQL schema tool `temporal-sql-tool`
# (go.temporal.io/server/cmd/tools/sql) from the Go module proxy into <repo>/.cache/bin/, at the
# server version the pinned Temporal CLI embeds (checked against the CLI's go.mod, so the dev
# server and the production engine are the same Temporal). Copies the module's PostgreSQL schema
# (schema/postgresql/v12, versioned) beside them, to .cache/bin/temporal-server-schema/, for
# dev/temporal-server.ts (in .cache/bin so that worktrees sharing it share the schema too).
# Called by scripts/provision.sh; runs alone too. go.temporal.io/server's go.mod has no `replace`
# lines, so a plain `go install module/cmd@version` works.
#
# Idempotent: skipped when .cache/bin/temporal-server.version matches; `--force` or
# MEDIC_PROVISION_FORCE=1 rebuilds (Go's build cache keeps that quick).
set -euo pipefail

TEMPORAL_SERVER_VERSION="v1.29.1"      # what Temporal CLI v1.5.1 (scripts/provision-temporal-cli.sh) embeds
TEMPORAL_SERVER_MODULE="go.temporal.io/server"
MIN_GO="1.25"                          # the module's go.mod says go 1.25.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$ROOT/scripts/lib/provision-common.sh"
provision_init provision-temporal-server 2,13 "$ROOT/.cache" temporal-server "$@"   # OUT=bin/temporal-server
SQL_TOOL="$BIN_DIR/temporal-sql-tool"
SQL_STAMP="$BIN_DIR/temporal-sql-tool.version"
SCHEMA_DIR="$BIN_DIR/temporal-server-schema/postgresql/v12"
SCHEMA_STAMP="$BIN_DIR/temporal-server-schema.version"

if [ "$FORCE" != "1" ] && [ -x "$OUT" ] && stamp_is "$STAMP" "$TEMPORAL_SERVER_VERSION" \
   && [ -x "$SQL_TOOL" ] && stamp_is "$SQL_STAMP" "$TEMPORAL_SERVER_VERSION" \
   && [ -d "$SCHEMA_DIR/temporal/versioned" ] && stamp_is "$SCHEMA_STAMP" "$TEMPORAL_SERVER_VERSION"; then
  exit 0 # fast path: already built
fi

require_go "$MIN_GO" "temporal-server $TEMPORAL_SERVER_VERSION"

# The version the pinned CLI embeds: its go.mod's requirement on the server module.
cli_version="$(sed -n 's/^TEMPORAL_CLI_VERSION="\([^"]*\)".*/\1/p' "$ROOT/scripts/provision-temporal-cli.sh")"
[ -n "$cli_version" ] || die "cannot read TEMPORAL_CLI_VERSION from scripts/provision-temporal-cli.sh"
module_dir() { (cd / && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'); }
cli_dir="$(module_dir "github.com/temporalio/cli@$cli_version")" || die "go mod download github.com/temporalio/cli@$cli_version failed"
embedded="$(sed -n 's/^[[:space:]]*go\.temporal\.io\/server \(v[^ ]*\).*/\1/p' "$cli_dir/go.mod" | head -n1)"
[ "$embedded" = "$TEMPORAL_SERVER_VERSION" ] \
  || die "Temporal CLI $cli_version embeds server ${embedded:-?}, but TEMPORAL_SERVER_VERSION is $TEMPORAL_SERVER_VERSION: pin the same version in scripts/provision-temporal-server.sh"
say "Temporal CLI $cli_version embeds server $embedded: building the same version"

# Both binaries from one module version; the second build reuses the first's compiled packages.
if [ "$FORCE" = "1" ] || ! { [ -x "$OUT" ] && stamp_is "$STAMP" "$TEMPORAL_SERVER_VERSION"; }; then
  go_install_into temporal-server "$TEMPORAL_SERVER_MODULE/cmd/server@$TEMPORAL_SERVER_VERSION" "-s -w" "$OUT" "$STAMP" "$TEMPORAL_SERVER_VERSION"
fi
if [ "$FORCE" = "1" ] || ! { [ -x "$SQL_TOOL" ] && stamp_is "$SQL_STAMP" "$TEMPORAL_SERVER_VERSION"; }; then
  go_install_into temporal-sql-tool "$TEMPORAL_SERVER_MODULE/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" "-s -w" "$SQL_TOOL" "$SQL_STAMP" "$TEMPORAL_SERVER_VERSION"
fi

# The schema the server version ships (setup-schema + update-schema read these directories).
server_dir="$(module_dir "$TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION")" || die "go mod download $TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION failed"
[ -d "$server_dir/schema/postgresql/v12/temporal/versioned" ] || die "no schema/postgresql/v12 in $server_dir"
schema_tmp="$(mktemp -d "$BIN_DIR/.temporal-server-schema.XXXXXX")"
trap 'rm -rf "$schema_tmp"' EXIT
cp -R "$server_dir/schema/postgresql/v12/." "$schema_tmp/"
chmod -R u+w,go+rX "$schema_tmp"   # the module cache is read-only
rm -rf "$SCHEMA_DIR"
mkdir -p "$(dirname "$SCHEMA_DIR")"
mv "$schema_tmp" "$SCHEMA_DIR"
echo "$TEMPORAL_SERVER_VERSION" >"$SCHEMA_STAMP"
say "temporal-server ready: $OUT ($("$OUT" --version 2>/dev/null || echo "$TEMPORAL_SERVER_VERSION")), schema in $SCHEMA_DIR"

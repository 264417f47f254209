#!/usr/bin/env bash
# Provisions Unleash (the feature-flag server the `flag` action is tested against) into
# <repo>/.cache/unleash — never into the project's node_modules: it is a server we run, not a
# library we import. Called by scripts/provision.sh (which holds the provision lock); runnable
# alone too. Idempotent: stamped with the version, a second run returns at once.
#
#   .cache/unleash/node_modules/unleash-server/dist/server.js   started by test/support/unleash.ts
#   .cache/unleash/medic.version                                  the stamp
#
# Install scripts are not run (--ignore-scripts): none is needed to serve the API, and one of
# them (scarf) would phone home. Unleash 8 declares node >= 22 but runs on Node 20 (checked for
# what medic uses: admin API, API tokens, client API, events); npm only warns about the engine.
set -euo pipefail

UNLEASH_VERSION="8.2.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$ROOT/scripts/lib/provision-common.sh"
provision_dirs "$ROOT/.cache"
DIR="$CACHE/unleash" # holds node_modules/unleash-server and the stamp medic.version
SERVER="$DIR/node_modules/unleash-server/dist/server.js"

if [ "${MEDIC_PROVISION_FORCE:-0}" != "1" ] && stamp_is "$DIR/medic.version" "$UNLEASH_VERSION" && [ -f "$SERVER" ]; then
  say "unleash ready: $SERVER ($UNLEASH_VERSION)"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to install unleash-server (comes with Node.js)"
mkdir -p "$CACHE" "$LOG_DIR"
say "installing unleash-server@$UNLEASH_VERSION into $DIR (npm registry, ~1 minute)…"
tmp="$(mktemp -d "$CACHE/.unleash.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log="$LOG_DIR/unleash-npm.log"
run_logged "installing unleash-server@$UNLEASH_VERSION" "$log" "$ROOT" \
  npm install --prefix "$tmp" --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error "unleash-server@$UNLEASH_VERSION"
[ -f "$tmp/node_modules/unleash-server/dist/server.js" ] || die "unleash-server installed without dist/server.js (log: $log)"
echo "$UNLEASH_VERSION" >"$tmp/medic.version"
rm -rf "$DIR"
mv "$tmp" "$DIR"
trap - EXIT
say "unleash ready: $SERVER ($UNLEASH_VERSION)"

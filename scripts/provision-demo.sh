#!/usr/bin/env bash
# What `npm start` (the embedded demo) needs, and nothing else: a Temporal CLI for the dev server.
# Run by `bash scripts/provision.sh --demo`. Takes the first of, and says which:
#
#   1. MEDIC_TEMPORAL_CLI, or a `temporal` on PATH     (e.g. brew install temporal)
#   2. the cached binary: $MEDIC_CACHE_DIR/bin/temporal (default .cache/bin/temporal)
#   3. the SDK's own download of the dev server (@temporalio/testing → temporal.download),
#      when the internet answers within MEDIC_TEMPORAL_DOWNLOAD_TIMEOUT seconds (default 90)
#   4. a `go install` build (Go >= 1.25; scripts/provision-temporal-cli.sh)
#
# and records it in $MEDIC_CACHE_DIR/demo.env (MEDIC_TEMPORAL_CLI=…) for dev/demo/main.ts.
# Prometheus + Alertmanager are used when installed (Debian packages), never installed here:
# without them the demo runs its built-in health watcher. Chromium, PostgreSQL, Java, moto,
# Unleash, helm and the Kubernetes control plane are for `npm test` (scripts/provision.sh --all).
# When none of 1–4 works: one message naming the ways to get a Temporal server, exit 1, and
# nothing left behind (downloads and builds happen in temporary directories).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$ROOT/scripts/lib/provision-common.sh"
provision_dirs "${MEDIC_CACHE_DIR:-$ROOT/.cache}"
check_node "$ROOT"
CACHED_CLI="$BIN_DIR/temporal"
DEMO_ENV="$CACHE/demo.env"
DOWNLOAD_TIMEOUT="${MEDIC_TEMPORAL_DOWNLOAD_TIMEOUT:-90}"
MIN_GO="1.25"

# cli_version PATH: "temporal version 1.5.1 (…)" → "1.5.1 (…)"; fails when PATH is not a working CLI
cli_version() {
  local v
  v="$("$1" --version 2>/dev/null | head -n1)" && [[ "$v" == "temporal version "* ]] || return 1
  echo "${v#temporal version }"
}

# use PATH HOW: records PATH as the demo's Temporal CLI and says how it was found
use() {
  local version
  version="$(cli_version "$1")" || return 1
  mkdir -p "$CACHE"
  printf 'MEDIC_TEMPORAL_CLI=%s\n' "$1" >"$DEMO_ENV.tmp"
  mv -f "$DEMO_ENV.tmp" "$DEMO_ENV"
  say "Temporal CLI $version: $1 — $2"
  prometheus_note
  exit 0
}

prometheus_note() {
  if command -v prometheus >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1; then
    say "detection: Prometheus + Alertmanager found on PATH"
  else
    say "detection: medic's built-in health watcher (for the real Prometheus + Alertmanager path: apt-get install prometheus prometheus-alertmanager)"
  fi
}

# 1. the user's own CLI
if [ -n "${MEDIC_TEMPORAL_CLI:-}" ]; then
  use "$MEDIC_TEMPORAL_CLI" "from MEDIC_TEMPORAL_CLI" \
    || die "MEDIC_TEMPORAL_CLI=$MEDIC_TEMPORAL_CLI is not a working Temporal CLI (\`$MEDIC_TEMPORAL_CLI --version\` fails)"
fi
if on_path="$(command -v temporal 2>/dev/null)"; then
  use "$on_path" "the temporal on PATH" || say "ignoring $on_path: \`temporal --version\` does not answer like the Temporal CLI"
fi

# 2. cached (built by an earlier run, `npm test`, or downloaded by step 3)
[ -x "$CACHED_CLI" ] && { use "$CACHED_CLI" "cached in $BIN_DIR" || say "ignoring $CACHED_CLI: it does not run"; }

# 3. the SDK's download. In a temporary directory: a failed or interrupted download leaves nothing.
tmp="$(mktemp -d "${TMPDIR:-/tmp}/medic-temporal-download.XXXXXX")"
trap 'rm -rf "$tmp" "$BIN_DIR/.temporal.download"' EXIT
say "no temporal on PATH or in $BIN_DIR: downloading the dev server the way the Temporal SDK does (temporal.download, up to ${DOWNLOAD_TIMEOUT}s)…"
mkdir -p "$tmp/dl"
# (TMPDIR too: tsx's compile cache stays in there)
if (cd "$ROOT" && TMPDIR="$tmp" node --import tsx scripts/lib/download-temporal.ts "$tmp/dl" "$DOWNLOAD_TIMEOUT" "$tmp/result") >"$tmp/log" 2>&1 \
   && read -r status binary <"$tmp/result" && [ "$status" = ok ] && cli_version "$binary" >/dev/null; then
  mkdir -p "$BIN_DIR"
  cp "$binary" "$BIN_DIR/.temporal.download"
  mv -f "$BIN_DIR/.temporal.download" "$CACHED_CLI"
  # not the pinned go build: `npm test` (provision.sh --all) rebuilds it to its pinned version
  echo "sdk-download $(basename "$binary")" >"$BIN_DIR/temporal.version"
  use "$CACHED_CLI" "downloaded by the Temporal SDK, cached in $BIN_DIR"
fi
download_failure="$(sed -n 's/^fail //p' "$tmp/result" 2>/dev/null || true)"
say "cannot download the Temporal dev server: ${download_failure:-$(tail -n 1 "$tmp/log")}"

# 4. build it with Go
go_version="$(go_version_of)"
if [ -n "$go_version" ] && version_ge "$go_version" "$MIN_GO"; then
  mkdir -p "$CACHE"
  take_lock 9 "$CACHE/provision.lock" "provision run" # one build at a time (npm test builds it too)
  MEDIC_CACHE_DIR="$CACHE" bash "$ROOT/scripts/provision-temporal-cli.sh" 9>&- || die "building the Temporal CLI with Go failed (see above)"
  use "$CACHED_CLI" "built with go install, cached in $BIN_DIR"
fi

cat >&2 <<EOF
medic: no Temporal server for the demo. Any one of these works:
  1. install the Temporal CLI and put \`temporal\` on PATH (https://docs.temporal.io/cli#install,
     e.g. brew install temporal), or point MEDIC_TEMPORAL_CLI at it;
  2. connect to the internet, so the Temporal SDK can download the dev server (temporal.download);
  3. install Go >= $MIN_GO (https://go.dev/dl${go_version:+; found go $go_version}), so it is built with go install.
Then run npm start again.
EOF
exit 1

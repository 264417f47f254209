#!/usr/bin/env bash
# Runs the unit + workflow suites on Node 22, the oldest supported line (engines >=22.12); extra
# arguments go to vitest. .ci/run calls it after the main run on Node 24.
#
# better-sqlite3 is a native module, built by `npm ci` for the Node that ran it (24) into
# build/Release/. Its loader (`bindings`) also looks in lib/binding/node-v<ABI>-<platform>-<arch>/,
# so both builds are kept there side by side: the Node 24 build is moved there, and a Node 22
# build, compiled once from the installed package's own sources against Node 22's headers, is
# cached in .cache/node/ and copied beside it. Either Node then loads its own build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=node.sh
source scripts/node.sh

bin22="$(medic_node_dir "$MEDIC_NODE22_VERSION")"
pkg="$ROOT/node_modules/better-sqlite3"
[ -f "$pkg/package.json" ] || { echo "medic: node_modules/better-sqlite3 is missing: run npm ci first" >&2; exit 1; }
abi_of() { "$1" -p 'process.versions.modules + "-" + process.platform + "-" + process.arch'; }
abi22="$(abi_of "$bin22/node")"

# The build npm made (for the node that ran npm ci) moves to its own ABI's directory: the ABI of
# whichever candidate node can load it.
built="$pkg/build/Release/better_sqlite3.node"
if [ -f "$built" ]; then
  abi_npm=""
  for candidate in "$(medic_node_dir "$MEDIC_NODE24_VERSION")/node" "$(command -v node)"; do
    if "$candidate" -e 'process.dlopen({ exports: {} }, process.argv[1])' "$built" 2>/dev/null; then
      abi_npm="$(abi_of "$candidate")"; break
    fi
  done
  [ -n "$abi_npm" ] || { echo "medic: no node here loads $built: run npm ci again" >&2; exit 1; }
  mkdir -p "$pkg/lib/binding/node-v$abi_npm"
  cp -f "$pkg/build/Release/better_sqlite3.node" "$pkg/lib/binding/node-v$abi_npm/better_sqlite3.node.tmp"
  mv -f "$pkg/lib/binding/node-v$abi_npm/better_sqlite3.node.tmp" "$pkg/lib/binding/node-v$abi_npm/better_sqlite3.node"
  rm -f "$pkg/build/Release/better_sqlite3.node"
fi

version="$(node -p "require('$pkg/package.json').version")"
cached="${bin22%/bin}/better-sqlite3-$version/better_sqlite3.node"
if [ ! -f "$cached" ]; then
  echo "medic: building better-sqlite3 $version for Node $MEDIC_NODE22_VERSION (once; cached in .cache/node/)…" >&2
  work="$(mktemp -d "${bin22%/bin}/.better-sqlite3.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  cp -a "$pkg/." "$work/"
  rm -rf "$work/build" "$work/lib/binding"
  log="$ROOT/.cache/logs/better-sqlite3-node22.log"
  mkdir -p "$ROOT/.cache/logs"
  if ! (cd "$work" && medic_node_path "$bin22" && npm run --silent build-release) >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "medic: building better-sqlite3 for Node 22 failed (log: $log)" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$cached")"
  cp -f "$work/build/Release/better_sqlite3.node" "$cached"
fi
mkdir -p "$pkg/lib/binding/node-v$abi22"
cp -f "$cached" "$pkg/lib/binding/node-v$abi22/better_sqlite3.node"

medic_node_path "$bin22"
echo "medic: vitest on $(node --version): test/unit test/workflow" >&2
exec npx vitest run test/unit test/workflow "$@"

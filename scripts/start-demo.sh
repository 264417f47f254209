#!/usr/bin/env bash
# `npm start`: provisions what the embedded demo needs, and only that (scripts/provision.sh
# --demo: a Temporal CLI), then runs it. The start time goes along, so the demo's "first incident
# healed N s after start" counts provisioning too. Arguments go to the demo (e.g. --once).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
MEDIC_DEMO_STARTED_AT_MS="$(date +%s%3N)"
export MEDIC_DEMO_STARTED_AT_MS
# Node 24 (scripts/node.sh: from the npm registry into .cache/node/ when the machine's is older)
# for the provisioning and the demo alike.
# shellcheck source=node.sh
source "$ROOT/scripts/node.sh"
medic_use_node || true   # could not fetch it: provisioning says what to install
bash "$ROOT/scripts/provision.sh" --demo
cd "$ROOT"
exec node --import tsx dev/demo/main.ts "$@"

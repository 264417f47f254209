#!/usr/bin/env bash
# Runs medic's image as a user would and checks it (bash scripts/image.sh check; root, podman):
# a Temporal dev server (.cache/bin/temporal) on the host, the worker and the app from the image
# on the host network (podman run --network host), then
#   - both processes run as uid 1000, not root
#   - /healthz and /readyz answer on the app and on the worker
#   - an Alertmanager webhook posted to the app starts an incident, and the worker in the image
#     runs its workflow tasks
#   - the image holds no dev stand-ins, demo, tests, dev dependencies or compilers
# Prints each command it runs (a transcript) and exits non-zero at the first failed check.
# Usage: bash scripts/image-check.sh IMAGE
set -euo pipefail
IMAGE="${1:?usage: image-check.sh IMAGE}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=node.sh
source scripts/node.sh
medic_use_node
# shellcheck source=lib/provision-common.sh
source scripts/lib/provision-common.sh

TEMPORAL="${MEDIC_TEMPORAL_CLI:-$ROOT/.cache/bin/temporal}"
[ -x "$TEMPORAL" ] || die "no Temporal CLI at $TEMPORAL (bash scripts/provision.sh provisions it, or set MEDIC_TEMPORAL_CLI)"
storage=()
[ -n "${MEDIC_IMAGE_STORAGE_DRIVER:-}" ] && storage=(--storage-driver "$MEDIC_IMAGE_STORAGE_DRIVER")
# runc where installed (crun refuses a hybrid cgroup v1/v2 layout), and the container's limits set
# to this shell's own: podman's defaults are higher, and raising them needs CAP_SYS_RESOURCE.
runtime="${MEDIC_IMAGE_RUNTIME:-$(command -v runc >/dev/null 2>&1 && echo runc || true)}"
[ -n "$runtime" ] && storage+=(--runtime "$runtime")
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=8192:8192")

# run CMD…: prints it (secret values masked, the podman_ wrapper shown as podman), then runs it
run() { printf '$ %s\n' "$*" | sed -E 's/^\$ podman_/$ podman/; s/((TOKEN|KEY)=)[^ ]+/\1…/g' >&2; "$@"; }
fail() { echo "image check FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# wait_http URL SECONDS: until URL answers 2xx
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}

suffix="$$"
worker="medic-check-worker-$suffix"
app="medic-check-app-$suffix"
work="$(mktemp -d)"
temporal_pid=""
cleanup() {
  podman "${storage[@]+"${storage[@]}"}" rm -f -t 5 "$worker" "$app" >/dev/null 2>&1 || true
  [ -n "$temporal_pid" ] && kill "$temporal_pid" 2>/dev/null && wait "$temporal_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
podman_() { podman "${storage[@]+"${storage[@]}"}" "$@"; }

echo "== image $IMAGE: $(podman_ image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec) ($(podman_ image inspect --format '{{.Size}}' "$IMAGE") bytes)"

# -- what the image holds ----------------------------------------------------------------------
echo "== contents"
echo "\$ podman run --rm --network none $IMAGE sh -c '<no compiler on PATH, no dev/test/bench/docs paths, no dev dependency, no *.test.ts or stand-in file>'" >&2
# shellcheck disable=SC2016
podman_ run --rm --network none "${limits[@]}" --entrypoint /bin/sh "$IMAGE" -c '
  set -e
  bad=""
  for c in gcc g++ cc c++ clang make python3 go javac; do command -v "$c" >/dev/null 2>&1 && bad="$bad compiler:$c"; done
  for p in /app/test /app/bench /app/dev /app/src/dev /app/src/demo /app/docs /app/scripts /app/.cache /app/node_modules/.bin/tsc \
           /app/node_modules/vitest /app/node_modules/typescript /app/node_modules/eslint /app/node_modules/playwright-core \
           /app/node_modules/@temporalio/testing; do
    [ -e "$p" ] && bad="$bad present:$p"
  done
  found="$(find /app -path /app/node_modules -prune -o \( -name "*.test.ts" -o -name "*stand-in*" \) -print | head -n 5)"
  [ -n "$found" ] && bad="$bad files:$(echo $found)"
  echo "  node $(node --version), user $(id -un) ($(id -u)), /app: $(ls /app | tr "\n" " ")"
  [ -z "$bad" ] || { echo "unexpected:$bad"; exit 1; }
' 2>"$work/podman-contents.log" || { cat "$work/podman-contents.log" >&2; fail "the image holds what it must not"; }
ok "no compilers, no dev stand-ins, demo, tests or dev dependencies"

# -- a Temporal dev server on the host -----------------------------------------------------------
tport="$(free_port)"; aport="$(free_port)"; wport="$(free_port)"
attrs=()
for name in $(npx tsx -e "import('./workflows/contracts.ts').then((m) => console.log(m.SEARCH_ATTRIBUTE_REGISTRATIONS.join(' ')))"); do
  attrs+=(--search-attribute "$name=Keyword")
done
echo "== Temporal dev server on 127.0.0.1:$tport"
"$TEMPORAL" server start-dev --ip 127.0.0.1 --port "$tport" --headless --log-level error \
  --db-filename "$work/temporal.db" "${attrs[@]}" >"$work/temporal.log" 2>&1 &
temporal_pid=$!
deadline=$((SECONDS + 60))
until "$TEMPORAL" operator cluster health --address "127.0.0.1:$tport" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || { cat "$work/temporal.log" >&2; fail "the Temporal dev server did not start"; }
  sleep 1
done

token="$(node -p 'require("crypto").randomBytes(24).toString("hex")')"
key="$(node -p 'require("crypto").randomBytes(32).toString("hex")')"
queue="medic-image-check-$suffix"
env=(-e NODE_ENV=production -e "MEDIC_TEMPORAL_ADDRESS=127.0.0.1:$tport" -e "MEDIC_TEMPORAL_TASK_QUEUE=$queue"
     -e "MEDIC_INTAKE_TOKEN=$token" -e "MEDIC_IDENTITY_KEY=$key" -e MEDIC_HTTP_HOST=127.0.0.1)

# -- worker and app ------------------------------------------------------------------------------
echo "== worker and app from the image (podman run, host network)"
run podman_ run -d --name "$worker" --network host "${limits[@]}" "${env[@]}" -e "MEDIC_WORKER_HEALTH_PORT=$wport" \
  "$IMAGE" node --import tsx src/worker.ts >/dev/null 2>>"$work/podman.log"
run podman_ run -d --name "$app" --network host "${limits[@]}" "${env[@]}" -e "MEDIC_HTTP_PORT=$aport" "$IMAGE" >/dev/null 2>>"$work/podman.log"
for pair in "worker:$wport" "app:$aport"; do
  name="${pair%%:*}"; port="${pair#*:}"
  container="$worker"; [ "$name" = app ] && container="$app"
  if ! wait_http "http://127.0.0.1:$port/readyz" 120; then
    podman_ logs "$container" >"$work/logs.txt" 2>&1; tail -n 30 "$work/logs.txt" >&2
    fail "the $name's /readyz did not answer 200 within 120 s"
  fi
  for path in /healthz /readyz; do
    echo "\$ curl http://127.0.0.1:$port$path → $(curl -sS --max-time 5 -w ' HTTP %{http_code}' "http://127.0.0.1:$port$path")"
  done
  podman_ top "$container" user args >"$work/top.txt" 2>>"$work/podman.log"
  echo "\$ podman top $container user args →"; sed 's/^/  /' "$work/top.txt"
  users="$(awk 'NR > 1 {print $1}' "$work/top.txt" | sort -u | tr '\n' ' ')"
  [ "$users" = "node " ] || [ "$users" = "1000 " ] || fail "the $name's processes run as $users, not only the non-root user"
  echo "\$ podman healthcheck run $container → $(podman_ healthcheck run "$container" 2>>"$work/podman.log" && echo healthy || echo unhealthy)"
  ok "$name up as the non-root user; /healthz and /readyz answer"
done
for container in "$worker" "$app"; do
  podman_ logs "$container" >"$work/logs.txt" 2>&1 || true
  echo "\$ podman logs $container (first lines)"; head -n 4 "$work/logs.txt" | cut -c1-240 | sed 's/^/  /'
done

# -- a webhook starts an incident ----------------------------------------------------------------
echo "== webhook → incident"
cat >"$work/alert.json" <<'EOF'
{"version":"4","groupKey":"{}:{alertname=\"DemoServiceDown\"}","status":"firing","receiver":"medic",
 "groupLabels":{"alertname":"DemoServiceDown"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093",
 "alerts":[{"status":"firing","labels":{"alertname":"DemoServiceDown","service":"demo","severity":"critical"},
 "annotations":{"summary":"demo /healthz failing"},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z",
 "generatorURL":"http://prometheus:9090/graph","fingerprint":"a1b2c3d4e5f60718"}]}
EOF
echo "\$ curl -X POST http://127.0.0.1:$aport/webhooks/alertmanager -H 'authorization: Bearer …' -d @alert.json"
answer="$(curl -sS --max-time 15 -w '\nHTTP %{http_code}' -H "authorization: Bearer $token" -H 'content-type: application/json' \
  --data @"$work/alert.json" "http://127.0.0.1:$aport/webhooks/alertmanager")"
printf '%s\n' "$answer" | cut -c1-300 | sed 's/^/  /'
echo "$answer" | tail -n1 | grep -q 'HTTP 202' || fail "the webhook was not accepted"
id="$(echo "$answer" | grep -o '"workflowId":"[^"]*"' | head -n1 | cut -d'"' -f4)"
[ -n "$id" ] || id="$(echo "$answer" | grep -o 'incident:demo-service-down:[A-Za-z0-9_-]*' | head -n1)"
[ -n "$id" ] || fail "the webhook's answer names no incident workflow"
deadline=$((SECONDS + 60))
while :; do
  history="$("$TEMPORAL" workflow show --address "127.0.0.1:$tport" -w "$id" --output json 2>/dev/null || true)"
  completed="$(echo "$history" | grep -c 'WORKFLOW_TASK_COMPLETED\|WorkflowTaskCompleted' || true)"
  [ "$completed" -ge 1 ] && break
  [ "$SECONDS" -lt "$deadline" ] || { podman_ logs "$worker" >"$work/logs.txt" 2>&1; tail -n 20 "$work/logs.txt" >&2; fail "no workflow task of $id completed within 60 s"; }
  sleep 1
done
run "$TEMPORAL" workflow describe --address "127.0.0.1:$tport" -w "$id" >"$work/describe.txt" 2>&1 || true
head -n 14 "$work/describe.txt" | sed 's/^/  /'
ok "the webhook started $id; the worker in the image ran its workflow tasks"

echo "image check passed: $IMAGE"

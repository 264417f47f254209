# Helpers shared by scripts/provision*.sh (sourced, not run). Output and exit codes are the
# scripts' own: every message starts with "medic: ", and die exits 1.

say() { echo "medic: $*"; }
die() { echo "medic: $*" >&2; exit 1; }

# version_ge A B: true when dotted version A >= B
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# stamp_is FILE VALUE: true when the stamp FILE exists and holds exactly VALUE
stamp_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# take_lock FD FILE WHAT: opens FILE on descriptor FD and takes an exclusive flock on it, saying
# first that another run holds it when it has to wait; LOCK_WAITED=1 then (0 otherwise), so the
# caller can re-check a stamp the other run may have written. No flock on PATH: no lock.
take_lock() {
  local fd="$1" file="$2" what="$3"
  LOCK_WAITED=0
  command -v flock >/dev/null 2>&1 || return 0
  eval "exec $fd>\"\$file\""
  if ! flock -n "$fd"; then
    say "another $what holds $file; waiting for it…"
    LOCK_WAITED=1
    flock "$fd"
  fi
}

# wait_with_heartbeat PID WHAT STARTED: waits for the background build PID, saying every 30 s
# (counted from STARTED, a $SECONDS value) that WHAT is still building; sets build_rc to its status.
wait_with_heartbeat() {
  local pid="$1" what="$2" started="$3" next_beat=30
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - started)) -ge "$next_beat" ]; then
      say "… still building $what ($((SECONDS - started))s elapsed)"
      next_beat=$((next_beat + 30))
    fi
  done
  if wait "$pid"; then build_rc=0; else build_rc=$?; fi
}

# parse_provision_args NAME HELP_LINES ARGS...: sets FORCE (1 with --force, else
# MEDIC_PROVISION_FORCE or 0); -h/--help prints lines HELP_LINES (sed range, e.g. 2,17) of the
# calling script's header comment; anything else is an error naming the script as NAME.
parse_provision_args() {
  local name="$1" help="$2" script="${BASH_SOURCE[-1]}" arg
  shift 2
  FORCE="${MEDIC_PROVISION_FORCE:-0}"
  for arg in "$@"; do
    case "$arg" in
      --force) FORCE=1 ;;
      -h|--help) sed -n "${help}p" "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "medic: $name: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
  done
}

# check_node ROOT: the Node.js on PATH satisfies ROOT/package.json "engines".node (a ">=X.Y.Z"
# range), else one message with the fix and exit 1. The range is read, never repeated here.
check_node() {
  local pkg="$1/package.json" want have
  want="$(sed -n '/"engines"/,/}/s/.*"node": *"\([^"]*\)".*/\1/p' "$pkg" | head -n1)"
  [[ "$want" =~ ^\>=\ *[0-9]+(\.[0-9]+){0,2}$ ]] || die "package.json engines.node must be a \">=X.Y.Z\" range (found \"$want\")"
  want="${want#>=}"; want="${want// /}"
  local fix="install Node.js 24 LTS (nvm install 24, fnm install 24, or https://nodejs.org/en/download), then run npm ci again"
  command -v node >/dev/null 2>&1 || die "Node.js not found on PATH: medic needs node >=$want (package.json engines); fix: $fix"
  have="$(node -p 'process.versions.node' 2>/dev/null || true)"
  { [ -n "$have" ] && version_ge "$have" "$want"; } \
    || die "Node.js ${have:+v$have }is too old: medic needs node >=$want (package.json engines); fix: $fix"
}

# go_install_into NAME PACKAGE@VERSION LDFLAGS OUT STAMP_FILE STAMP: builds one Go command with
# `go install` from the Go module proxy (static, GOWORK off; a heartbeat every 30 s) in a temp dir beside OUT, log in
# <OUT's dir>/../logs/NAME-build.log, then moves it to OUT in one rename (worktrees share
# .cache/bin, so nobody sees half a binary) and writes STAMP to STAMP_FILE.
go_install_into() {
  local name="$1" pkg="$2" ldflags="$3" out="$4" stamp_file="$5" stamp="$6"
  local bin_dir log_dir build_dir log started=$SECONDS
  bin_dir="$(dirname "$out")"
  log_dir="$(dirname "$bin_dir")/logs"
  mkdir -p "$bin_dir" "$log_dir"
  build_dir="$(mktemp -d "$bin_dir/.$name-build.XXXXXX")"
  log="$log_dir/$name-build.log"
  say "building $name ${pkg#*@} with go install (first run only, a few minutes)…"
  # In the background, so a long build (the Temporal server: minutes on 2 cores) says it is alive.
  (cd "$build_dir" && GOBIN="$build_dir" GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
     exec go install -ldflags "$ldflags" "$pkg") >"$log" 2>&1 &
  wait_with_heartbeat $! "$name" "$started"
  if [ "$build_rc" -ne 0 ]; then
    rm -rf "$build_dir"
    tail -n 30 "$log" >&2
    die "building $name ${pkg#*@} failed (full log: $log)"
  fi
  local built
  built="$build_dir/$(basename "${pkg%@*}")"
  if [ ! -x "$built" ]; then rm -rf "$build_dir"; die "go install finished but produced no $name binary (log: $log)"; fi
  mv -f "$built" "$out"
  rm -rf "$build_dir"
  echo "$stamp" >"$stamp_file"
  say "built $name ${pkg#*@} in $((SECONDS - started))s"
}

# provision_dirs CACHE: sets CACHE, BIN_DIR (CACHE/bin) and LOG_DIR (CACHE/logs); creates none.
provision_dirs() { CACHE="$1"; BIN_DIR="$CACHE/bin"; LOG_DIR="$CACHE/logs"; }

# provision_init NAME HELP CACHE TOOL ARGS...: what a provision-<part>.sh does first: provision_dirs
# CACHE, OUT (BIN_DIR/TOOL) and STAMP (BIN_DIR/TOOL.version), then parse_provision_args NAME HELP ARGS.
provision_init() {
  local name="$1" help="$2"
  provision_dirs "$3"
  OUT="$BIN_DIR/$4"; STAMP="$BIN_DIR/$4.version"
  shift 4
  parse_provision_args "$name" "$help" "$@"
}

# go_version_of: the go on PATH's version (e.g. 1.25.3), empty when there is none.
go_version_of() { local v; v="$(go env GOVERSION 2>/dev/null || true)"; echo "${v#go}"; }

# require_go MIN WHAT: a go >= MIN is on PATH, else one message naming WHAT it builds and exit 1.
require_go() {
  local min="$1" what="$2" have
  command -v go >/dev/null 2>&1 || die "missing toolchain: go >= $min ($what is built with it; https://go.dev/dl — Debian 12's golang-go is 1.19, too old)"
  have="$(go_version_of)"
  { [ -n "$have" ] && version_ge "$have" "$min"; } || die "$what needs go >= $min (found ${have:-unknown}; https://go.dev/dl)"
}

# run_logged WHAT LOG DIR CMD...: runs CMD in DIR with its output in LOG; when it fails, shows the
# log's last 30 lines and exits 1 saying WHAT failed.
run_logged() {
  local what="$1" log="$2" dir="$3"
  shift 3
  if ! (cd "$dir" && "$@") >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "$what failed (full log: $log)"
  fi
}

# install_built BUILT DEST STAMP VALUE LOG: moves the executable BUILT to DEST (a rename, so DEST is
# never half-written) and stamps STAMP with VALUE; a build that produced nothing is an error.
install_built() {
  [ -x "$1" ] || die "the build finished but produced no $(basename "$1") (log: $5)"
  mv -f "$1" "$2"
  echo "$4" >"$3"
}

# wrapper_current WRAPPER STAMP VALUE TARGET TEXT: the fast path of a generated wrapper: not
# forced, WRAPPER executable, STAMP holds VALUE, what it runs (TARGET) exists and WRAPPER still
# names it as TEXT (which catches a repo moved since the wrapper was written).
wrapper_current() {
  [ "${FORCE:-0}" != "1" ] && [ -x "$1" ] && stamp_is "$2" "$3" && [ -e "$4" ] && grep -qF "$5" "$1"
}

# install_wrapper DEST STAMP VALUE: writes stdin as the executable wrapper script DEST (through a
# temporary file listed in TMP_PATHS, which the caller's EXIT trap removes) and stamps STAMP.
install_wrapper() {
  local tmp
  tmp="$(dirname "$1")/.$(basename "$1").tmp"
  TMP_PATHS+=("$tmp")
  cat >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$1"
  echo "$3" >"$2"
}

# venv_pip_install VENV LOG SPEC: a fresh Python virtualenv VENV (an old one removed first) with
# SPEC installed from PyPI, pip's output in LOG; on failure shows the log's last 30 lines, removes
# VENV (a venv's scripts name their own path, so it is built in place) and exits 1.
venv_pip_install() {
  local venv="$1" log="$2" spec="$3"
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" \
         && "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "$spec"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -rf "$venv"
    die "installing $spec failed (log: $log)"
  fi
}

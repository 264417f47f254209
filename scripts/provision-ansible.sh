#!/usr/bin/env bash
# Provisions what the `ansible` step action is tested against:
#
#   .cache/ansible-venv/               Python virtualenv with ansible-core (PyPI, pinned below):
#     bin/ansible-playbook             the runner test/support/ansible.ts and the worker start
#     lib/python3*/site-packages/ansible_collections/ansible/posix   its JSON stdout callback
#     medic.version                    the stamp
#   /usr/sbin/sshd                     Debian's openssh-server (apt-get as root when missing): the
#                                      tests start their own sshd instances on loopback ports,
#                                      each with its own host dir, host keys and authorized_keys
#
# Called by scripts/provision.sh (which holds the provision lock); runnable alone too.
# Idempotent: stamped with the version, a second run returns at once. Force with `--force` or
# MEDIC_PROVISION_FORCE=1.
#
# ansible-core 2.19 is the newest line whose controller runs on Python 3.11 (Debian 12's
# python3); 2.20 needs 3.12.
set -euo pipefail

ANSIBLE_CORE_VERSION="2.19.14"
# The JSON stdout callback (ANSIBLE_STDOUT_CALLBACK=json) is ansible.posix.json, a collection
# ansible-core does not ship. Galaxy is not a registry medic provisions from, so the collection is
# taken from PyPI's `ansible` community package of the same line (it pins ansible.posix), and
# only that collection is unpacked into the venv's site-packages, where ansible-core finds it.
ANSIBLE_PACKAGE_VERSION="12.3.0"
STAMP_VALUE="ansible-core $ANSIBLE_CORE_VERSION + ansible.posix from ansible $ANSIBLE_PACKAGE_VERSION"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$ROOT/scripts/lib/provision-common.sh"
provision_dirs "$ROOT/.cache"
parse_provision_args provision-ansible 2,17 "$@"
VENV="$CACHE/ansible-venv"
STAMP="$VENV/medic.version"
PLAYBOOK_BIN="$VENV/bin/ansible-playbook"
mkdir -p "$CACHE" "$LOG_DIR"

# openssh-server: the tests' SSH hosts. Installed only when missing (no unit is started: the
# Debian package enables ssh.service, which does nothing without systemd, and the tests run
# their own sshd processes as the current user).
if [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian package openssh-server (apt-get)…"
    apt_log="$LOG_DIR/apt-openssh-server.log"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends openssh-server >"$apt_log" 2>&1; then
      say "apt-get install failed; running apt-get update and retrying…"
      if ! { apt-get update && apt-get install -y --no-install-recommends openssh-server; } >>"$apt_log" 2>&1; then
        tail -n 20 "$apt_log" >&2
        die "could not install the Debian package openssh-server (log: $apt_log)"
      fi
    fi
    [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd still missing after installing openssh-server (log: $apt_log)"
  else
    die "missing /usr/sbin/sshd (install the Debian package as root: apt-get install --no-install-recommends openssh-server)"
  fi
fi
command -v ssh >/dev/null 2>&1 || die "missing ssh (install the Debian package openssh-client)"

if [ "$FORCE" != "1" ] && stamp_is "$STAMP" "$STAMP_VALUE" && [ -x "$PLAYBOOK_BIN" ]; then
  say "ansible ready: $PLAYBOOK_BIN ($STAMP_VALUE)"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 with venv is needed for ansible-core (e.g. apt-get install python3 python3-venv)"
say "installing ansible-core==$ANSIBLE_CORE_VERSION into $VENV (pip, PyPI)…"
log="$LOG_DIR/ansible-pip.log"
# Built under its final name (a venv's scripts name their own path); removed again on failure,
# and the stamp is written last, so a half-built venv is never taken for a ready one.
venv_pip_install "$VENV" "$log" "ansible-core==$ANSIBLE_CORE_VERSION"
[ -x "$PLAYBOOK_BIN" ] || die "ansible-core installed but $PLAYBOOK_BIN is missing (log: $log)"
"$PLAYBOOK_BIN" --version >>"$log" 2>&1 || die "$PLAYBOOK_BIN does not run (log: $log)"
say "unpacking ansible.posix from ansible==$ANSIBLE_PACKAGE_VERSION (PyPI)…"
wheel_dir="$(mktemp -d "$CACHE/.ansible-wheel.XXXXXX")"
trap 'rm -rf "$wheel_dir"' EXIT
if ! "$VENV/bin/python" -m pip download --disable-pip-version-check --no-input -q --no-deps --only-binary=:all: \
      -d "$wheel_dir" "ansible==$ANSIBLE_PACKAGE_VERSION" >>"$log" 2>&1; then
  tail -n 30 "$log" >&2
  rm -rf "$VENV"
  die "downloading ansible==$ANSIBLE_PACKAGE_VERSION failed (log: $log)"
fi
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$VENV/bin/python" - "$wheel_dir"/ansible-"$ANSIBLE_PACKAGE_VERSION"-*.whl "$site" <<'PY' >>"$log" 2>&1 || die "unpacking ansible.posix failed (log: $log)"
import sys, zipfile
wheel, site = sys.argv[1], sys.argv[2]
prefix = 'ansible_collections/ansible/posix/'
with zipfile.ZipFile(wheel) as z:
    members = [m for m in z.namelist() if m.startswith(prefix)]
    if not members:
        sys.exit(f'{wheel} holds no {prefix}')
    z.extractall(site, members)
print(f'unpacked {len(members)} files of {prefix} into {site}')
PY
ANSIBLE_STDOUT_CALLBACK=ansible.posix.json "$VENV/bin/ansible" localhost -c local -m ansible.builtin.ping >>"$log" 2>&1 \
  || die "the ansible.posix.json callback does not load (log: $log)"
echo "$STAMP_VALUE" >"$STAMP"
say "ansible ready: $PLAYBOOK_BIN ($STAMP_VALUE)"

#!/usr/bin/env bash
# Builds medic's image without a Docker engine and checks it by running it (as root; Debian's
# buildah, podman and mmdebstrap, installed by apt-get when missing):
#
#   bash scripts/image.sh base    localhost/medic-node:24 (runtime base) and :24-build (with
#                                 python3, make, g++ for native modules): a Debian bookworm rootfs
#                                 from mmdebstrap + Node 24 from the npm registry (scripts/node.sh)
#                                 + npm + the unprivileged `node` user (uid 1000), podman-imported
#   bash scripts/image.sh build   buildah bud of the Dockerfile on those bases → localhost/medic:<version>
#   bash scripts/image.sh check   podman run of that image against a Temporal dev server on the host
#                                 network (.cache/bin/temporal): worker and app start as uid 1000,
#                                 /healthz and /readyz answer, a webhook starts an incident, and
#                                 the image holds no dev stand-ins, no tests and no compilers
#   bash scripts/image.sh         all three (opt-in: not part of `npm test`; ~10 min cold on 2 cores)
#
# The Dockerfile's bases default to the public node:24-bookworm(-slim) images; this script passes
# its own as build arguments, so nothing is pulled from an image registry.
# Env: MEDIC_IMAGE (default localhost/medic:<package.json version>), MEDIC_IMAGE_STORAGE_DRIVER
# (e.g. vfs, when overlay is unavailable), MEDIC_IMAGE_ISOLATION (buildah RUN isolation, default
# chroot), MEDIC_IMAGE_RUNTIME (podman's OCI runtime for the check, default runc when installed),
# MEDIC_IMAGE_CA_BUNDLE (CAs the build stages trust, default the machine's bundle).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=node.sh
source scripts/node.sh
# shellcheck source=lib/provision-common.sh
source scripts/lib/provision-common.sh

BASE_RUN="localhost/medic-node:24"
BASE_BUILD="localhost/medic-node:24-build"
BASE_REV="1"   # bump when the base recipe below changes
VERSION="$(node -p "require('./package.json').version")"
IMAGE="${MEDIC_IMAGE:-localhost/medic:$VERSION}"
LOGS="$ROOT/.cache/logs"
mkdir -p "$LOGS"

ROOTFS_TMP=""
trap '[ -z "$ROOTFS_TMP" ] || rm -rf "$ROOTFS_TMP"' EXIT

storage=()
[ -n "${MEDIC_IMAGE_STORAGE_DRIVER:-}" ] && storage=(--storage-driver "$MEDIC_IMAGE_STORAGE_DRIVER")
podman_() { podman "${storage[@]+"${storage[@]}"}" "$@"; }
buildah_() { buildah "${storage[@]+"${storage[@]}"}" "$@"; }

[ "$(id -u)" = "0" ] || die "image.sh runs rootful buildah/podman: run it as root"
need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing Debian packages: ${need[*]} (apt-get)…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" uidmap runc >"$LOGS/apt-image.log" 2>&1 \
    || { apt-get update >>"$LOGS/apt-image.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" uidmap runc >>"$LOGS/apt-image.log" 2>&1; } \
    || die "apt-get install ${need[*]} failed (log: $LOGS/apt-image.log)"
fi

# ---------------------------------------------------------------------------------------------
# base: Debian rootfs (mmdebstrap, the machine's apt sources) + Node 24 + npm + user node (1000)
# ---------------------------------------------------------------------------------------------
make_base() {
  local tag="$1" include="$2" stamp="$3" variant="$4" node_dir rootfs npm_version
  if [ "$(podman_ image inspect --format '{{index .Labels "medic.base"}}' "$tag" 2>/dev/null || true)" = "$stamp" ]; then
    say "$tag is up to date ($stamp)"; return 0
  fi
  node_dir="$(medic_node_dir "$MEDIC_NODE24_VERSION")"; node_dir="${node_dir%/bin}"
  rootfs="$(mktemp -d /var/tmp/medic-rootfs.XXXXXX)"
  ROOTFS_TMP="$rootfs"
  say "mmdebstrap bookworm (minbase + $include) for $tag…"
  mmdebstrap --variant=minbase --include="$include" bookworm "$rootfs" >"$LOGS/mmdebstrap-${tag##*:}.log" 2>&1 \
    || { tail -n 20 "$LOGS/mmdebstrap-${tag##*:}.log" >&2; die "mmdebstrap failed (log: $LOGS/mmdebstrap-${tag##*:}.log)"; }
  # Node (binary and headers: node-gyp finds them beside the binary) and npm, where the public image has them.
  install -m 0755 "$node_dir/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  if [ "$variant" = build ]; then   # headers for node-gyp: the build base only
    mkdir -p "$rootfs/usr/local/include"
    cp -a "$node_dir/include/node" "$rootfs/usr/local/include/node"
  fi
  npm_version="$(npm --version)"
  (cd "$rootfs/usr/local/lib/node_modules" && npm pack --silent "npm@$npm_version" >/dev/null && mkdir npm && tar -xzf "npm-$npm_version.tgz" -C npm --strip-components=1 && rm "npm-$npm_version.tgz")
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman_ import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$MEDIC_NODE24_VERSION" \
    --change "LABEL medic.base=$stamp" \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null 2>&1
  rm -rf "$rootfs"; ROOTFS_TMP=""
  say "imported $tag ($(podman_ image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec))"
}

# The build base's last layer: node-gyp compiles against the headers shipped beside Node
# (npm_config_nodedir; it would download them otherwise), and npm trusts this machine's CA bundle
# (MEDIC_IMAGE_CA_BUNDLE), so `npm ci` in the build stages reaches the npm registry through
# whatever TLS-inspecting proxy this machine itself trusts. Only the build stages run on it: the
# runtime image keeps Debian's CA set.
finish_build_base() {
  local bundle="${MEDIC_IMAGE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" sum="none" ctr
  [ -f "$bundle" ] && sum="$(sha256sum "$bundle" | cut -c1-16)"
  if [ "$(podman_ image inspect --format '{{index .Labels "medic.build-env"}}' "$BASE_BUILD" 2>/dev/null || true)" = "1-$sum" ]; then return 0; fi
  ctr="$(buildah_ from "$BASE_BUILD")"
  buildah_ config --env npm_config_nodedir=/usr/local --label "medic.build-env=1-$sum" "$ctr"
  if [ -f "$bundle" ]; then
    buildah_ copy "$ctr" "$bundle" /usr/local/share/medic-build-ca.crt >/dev/null
    buildah_ config --env NODE_EXTRA_CA_CERTS=/usr/local/share/medic-build-ca.crt "$ctr"
  fi
  buildah_ commit --rm "$ctr" "$BASE_BUILD" >/dev/null 2>&1
  say "$BASE_BUILD: node-gyp uses /usr/local/include/node; npm trusts $bundle"
}

base() {
  local tag="$1" include="$2" stamp="$3" variant="$4" node_dir rootfs npm_version
  if [ "$(podman_ image inspect --format '{{index .Labels "medic.base"}}' "$tag" 2>/dev/null || true)" = "$stamp" ]; then
    say "$tag is up to date ($stamp)"; return 0
  fi
  node_dir="$(medic_node_dir "$MEDIC_NODE24_VERSION")"; node_dir="${node_dir%/bin}"
  rootfs="$(mktemp -d /var/tmp/medic-rootfs.XXXXXX)"
  ROOTFS_TMP="$rootfs"
  say "mmdebstrap bookworm (minbase + $include) for $tag…"
  mmdebstrap --variant=minbase --include="$include" bookworm "$rootfs" >"$LOGS/mmdebstrap-${tag##*:}.log" 2>&1 \
    || { tail -n 20 "$LOGS/mmdebstrap-${tag##*:}.log" >&2; die "mmdebstrap failed (log: $LOGS/mmdebstrap-${tag##*:}.log)"; }
  # Node (binary and headers: node-gyp finds them beside the binary) and npm, where the public image has them.
  install -m 0755 "$node_dir/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  if [ "$variant" = build ]; then   # headers for node-gyp: the build base only
    mkdir -p "$rootfs/usr/local/include"
    cp -a "$node_dir/include/node" "$rootfs/usr/local/include/node"
  fi
  npm_version="$(npm --version)"
  (cd "$rootfs/usr/local/lib/node_modules" && npm pack --silent "npm@$npm_version" >/dev/null && mkdir npm && tar -xzf "npm-$npm_version.tgz" -C npm --strip-components=1 && rm "npm-$npm_version.tgz")
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman_ import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$MEDIC_NODE24_VERSION" \
    --change "LABEL medic.base=$stamp" \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null 2>&1
  rm -rf "$rootfs"; ROOTFS_TMP=""
  say "imported $tag ($(podman_ image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec))"
}

# The build base trusts this machine's CA bundle (MEDIC_IMAGE_CA_BUNDLE), so `npm ci` in the build
# stages reaches the npm registry through whatever TLS-inspecting proxy this machine itself trusts.
# Only the build stages run on it: the runtime image keeps Debian's CA set.
trust_build_ca() {
  local bundle="${MEDIC_IMAGE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" sum ctr
  [ -f "$bundle" ] || { say "no CA bundle at $bundle: the build base keeps Debian's"; return 0; }
  sum="$(sha256sum "$bundle" | cut -c1-16)"
  if [ "$(podman_ image inspect --format '{{index .Labels "medic.build-ca"}}' "$BASE_BUILD" 2>/dev/null || true)" = "$sum" ]; then return 0; fi
  ctr="$(buildah_ from "$BASE_BUILD")"
  buildah_ copy "$ctr" "$bundle" /usr/local/share/medic-build-ca.crt >/dev/null
  buildah_ config --env NODE_EXTRA_CA_CERTS=/usr/local/share/medic-build-ca.crt --label "medic.build-ca=$sum" "$ctr"
  buildah_ commit --rm "$ctr" "$BASE_BUILD" >/dev/null 2>&1
  say "$BASE_BUILD trusts this machine's CA bundle ($bundle)"
}

base() {
  make_base "$BASE_RUN" "ca-certificates" "node-$MEDIC_NODE24_VERSION-run-$BASE_REV" run
  make_base "$BASE_BUILD" "ca-certificates,python3,make,g++" "node-$MEDIC_NODE24_VERSION-build-$BASE_REV" build
  finish_build_base
}

# ---------------------------------------------------------------------------------------------
# build: buildah bud, on the local bases; the npm registry is reached from the host's network
# ---------------------------------------------------------------------------------------------
build() {
  # chroot isolation: RUN steps need no OCI runtime, cgroups or user namespaces (crun refuses this
  # machine's hybrid cgroup layout); MEDIC_IMAGE_ISOLATION=oci where those work.
  local isolation=(--isolation "${MEDIC_IMAGE_ISOLATION:-chroot}")
  say "buildah bud → $IMAGE (log: $LOGS/image-build.log)…"
  local started=$SECONDS
  if ! buildah_ bud --format docker --layers --network host "${isolation[@]+"${isolation[@]}"}" \
      --build-arg NODE_IMAGE="$BASE_BUILD" --build-arg NODE_RUNTIME_IMAGE="$BASE_RUN" \
      -t "$IMAGE" . >"$LOGS/image-build.log" 2>&1; then
    tail -n 30 "$LOGS/image-build.log" >&2
    die "buildah bud failed (log: $LOGS/image-build.log)"
  fi
  say "built $IMAGE in $((SECONDS - started))s: $(podman_ image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec) ($(podman_ image inspect --format '{{.Size}}' "$IMAGE") bytes)"
}

# ---------------------------------------------------------------------------------------------
# check: run the image as a user would, against a real Temporal dev server
# ---------------------------------------------------------------------------------------------
check() {
  bash scripts/image-check.sh "$IMAGE"
}

case "${1:-all}" in
  base) base ;;
  build) build ;;
  check) check ;;
  all) base; build; check ;;
  *) die "usage: bash scripts/image.sh [base|build|check|all]" ;;
esac

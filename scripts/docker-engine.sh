#!/usr/bin/env bash
# Makes sure a Docker engine answers and the image `debian:bookworm-slim`
# exists, for `make image` and the e2e tests. On a fresh Debian machine as
# root it installs what is missing (docker.io, mmdebstrap), starts dockerd with
# no bridge, no iptables and no forwarding (containers get --network none or
# host only), and builds debian:bookworm-slim offline with mmdebstrap +
# docker import, since no image can be pulled. An engine that already answers
# is used as it is. Without root it only checks, and says what to do.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKERD_LOG=${BOXINIT_DOCKERD_LOG:-/var/log/boxinit-dockerd.log}
DOCKERD_FLAGS=(--bridge=none --iptables=false --ip-forward=false --ip-masq=false)
ENGINE_WAIT_S=60
BASE_IMAGE=debian:bookworm-slim

say() { echo "docker-engine: $*" >&2; }
fail() { say "error: $*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
engine_answers() { timeout 20 docker info >/dev/null 2>&1; }
have() { command -v "$1" >/dev/null 2>&1; }

# shellcheck source=apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"

# docker.io from apt; a reboot must not start the packaged dockerd (default
# bridge, iptables): only this script starts one, with the safe flags.
install_docker() {
  apt_install docker.io
  if [ -d /run/systemd/system ]; then systemctl disable docker.service docker.socket >/dev/null 2>&1 || true; fi
}

no_engine_help() {
  if [[ "$1" == *"permission denied"* ]]; then
    cat >&2 <<EOF
docker-engine: error: a Docker engine runs but $(id -un) may not use it (\`docker info\`: ${1})
  Either run the same command as root (sudo make test), or let this user use
  the engine: \`sudo usermod -aG docker $(id -un)\`, log in again, and rerun.
EOF
    exit 1
  fi
  cat >&2 <<EOF
docker-engine: error: no Docker engine answers (\`docker info\` failed: ${1})
  and this script is not root, so it cannot install or start one. Either:
  - run the same command as root (sudo make test / sudo make image): it installs
    docker.io and mmdebstrap if missing and starts
      dockerd ${DOCKERD_FLAGS[*]}
  - or, as root, start an engine yourself with exactly those flags (never the
    default bridge/iptables setup on this machine), let your user use it
    (\`usermod -aG docker $(id -un)\`, then log in again), and rerun.
EOF
  exit 1
}

start_engine() {
  if ! have dockerd; then install_docker; fi
  have docker || install_docker
  if [ -S /var/run/docker.sock ] && ! engine_answers && { have pgrep && pgrep -x dockerd >/dev/null 2>&1; }; then
    fail "a dockerd process exists but does not answer; see $DOCKERD_LOG or stop it, then rerun"
  fi
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  say "starting dockerd ${DOCKERD_FLAGS[*]} (log: $DOCKERD_LOG)"
  # setsid + nohup: the engine outlives this script and make; it is left running.
  setsid nohup dockerd "${DOCKERD_FLAGS[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$! deadline=$((SECONDS + ENGINE_WAIT_S))
  until engine_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      fail "dockerd (pid $pid) exited during start-up; its log is above and in $DOCKERD_LOG"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "dockerd (pid $pid) did not answer within ${ENGINE_WAIT_S}s; see $DOCKERD_LOG"
    sleep 0.5
  done
  say "dockerd is up (pid $pid)"
}

# debian:bookworm-slim from Debian's own archive: mmdebstrap's minbase is the
# package set the official slim image is made from, and these dpkg path
# excludes are the ones that make it "slim" (no docs but copyrights, no man
# pages, no translations). They stay in the image's dpkg config, so packages
# installed later in a Dockerfile are slimmed the same way.
SLIM_DPKG_OPTS=(
  'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/groff/*'
  'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/lintian/*'
  'path-exclude=/usr/share/linda/*' 'path-exclude=/usr/share/locale/*'
)
import_base_image() {
  is_root || fail "the image $BASE_IMAGE is missing and cannot be pulled here; as root run: scripts/docker-engine.sh (it builds it with mmdebstrap --variant=minbase bookworm and docker import)"
  have mmdebstrap || apt_install mmdebstrap
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/boxinit-rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "building $BASE_IMAGE with mmdebstrap --variant=minbase bookworm (about 30 s)"
  local started=$SECONDS
  mmdebstrap --quiet --variant=minbase "${SLIM_DPKG_OPTS[@]/#/--dpkgopt=}" bookworm "$work/rootfs.tar" ||
    fail "mmdebstrap failed; it needs Debian's package archive for bookworm (its default mirror, reached the way apt reaches it here)"
  docker import --change 'CMD ["bash"]' "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  say "$BASE_IMAGE imported ($((SECONDS - started)) s)"
}

main() {
  if ! have docker && ! is_root; then
    no_engine_help "no docker command on PATH"
  fi
  if ! engine_answers; then
    if ! is_root; then
      no_engine_help "$(timeout 20 docker info 2>&1 >/dev/null | grep -v -i '^warning' | tail -n 1 || true)"
    fi
    start_engine
  fi
  if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    import_base_image
  fi
}

main "$@"

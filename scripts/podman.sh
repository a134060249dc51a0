#!/usr/bin/env bash
# Makes podman ready for the Kubernetes end-to-end tests (test/e2e/kube-*):
# `podman kube play` is the real engine here that plays Pod, Deployment and
# ConfigMap YAML offline. As root on a fresh Debian machine it installs
# Debian's podman (and runc) when missing, as scripts/docker-engine.sh does
# docker.io, and writes boxinit's OWN containers.conf (system files are left
# alone), then checks that podman answers with it. Prints the line
# CONTAINERS_CONF=PATH; the tests find the file at that fixed path.
# Without root it only checks, and says what to do.
set -euo pipefail
cd "$(dirname "$0")/.."

CONF_DIR=${BOXINIT_PODMAN_DIR:-$PWD/build/podman}
CONF=$CONF_DIR/containers.conf

say() { echo "podman: $*" >&2; }
fail() { say "error: $*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }

# shellcheck source=apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"

# Why each line (checked on Debian 12 machines like CI's):
# - default_ulimits = []: podman's default asks for RLIMIT_NOFILE/NPROC
#   raised, which needs CAP_SYS_RESOURCE that a CI sandbox may not have.
# - runtime = "runc": crun refuses the hybrid cgroup v1/v2 layout found here.
# Without systemd podman picks cgroupfs and a file events log by itself.
write_conf() {
  mkdir -p "$CONF_DIR"
  cat >"$CONF.tmp" <<'EOF'
# Written by scripts/podman.sh for boxinit's tests; passed with CONTAINERS_CONF.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
EOF
  mv "$CONF.tmp" "$CONF"
}

podman_answers() { CONTAINERS_CONF=$CONF timeout 60 podman info --format '{{.Version.Version}}' 2>&1; }

# catatonit: `podman kube play` builds its pod's pause image around it (a
# Recommends only, so --no-install-recommends would leave it out:
# "finding pause binary: exec: catatonit: executable file not found").
main() {
  if ! have podman || ! have runc || ! have catatonit; then
    is_root || fail "podman, runc or catatonit is missing and this is not root; run as root: bash scripts/podman.sh (it runs apt-get install podman runc catatonit), or install them yourself"
    apt_install podman runc catatonit
  fi
  write_conf
  local answer
  answer=$(podman_answers) || fail "podman info with CONTAINERS_CONF=$CONF failed: $answer"
  is_root || say "warning: not root; the kube tests run podman as root (rootful pods, hostPath volumes)"
  say "podman $answer ready (runc, no default ulimits)"
  echo "CONTAINERS_CONF=$CONF"
}

main "$@"

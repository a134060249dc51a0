# Sourced by scripts/docker-engine.sh and scripts/podman.sh (which define say
# and fail): apt_install PACKAGE... installs without starting any service.
# policy-rc.d exit 101 = "start no service": docker.io's postinst would start
# dockerd with its default bridge and iptables rules, podman's would enable
# podman.socket; here only our scripts start what is needed, with safe flags.
# Lock::Timeout: make test may install docker.io and podman in the same
# minute: wait for dpkg's lock instead of failing on it.
apt_install() {
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$guard"
    chmod 755 "$guard"
    # Interrupted or not, the guard goes: left behind, no service would ever start on this machine.
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT INT TERM
  fi
  say "installing $* (apt-get)"
  local status=0
  { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
      --no-install-recommends "$@" >/dev/null; } || status=$?
  if [ -n "$guard" ]; then
    rm -f "$guard"
    trap - EXIT INT TERM
  fi
  [ "$status" -eq 0 ] || fail "apt-get install $* failed (exit $status)"
}

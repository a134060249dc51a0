#!/usr/bin/env bash
# Scenario 4, signal forwarding latency: sigbench takes the time, kill()s the
# init's host pid (as `docker kill -s` does from outside the namespace), and
# reads the receive stamp sigecho took right after sigwaitinfo returned.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

COUNT=${BENCH_SIGNAL_COUNT:-500}
# A pause between signals: each is an independent event, never coalesced, and
# the init is back to idle (the usual state of PID 1) when the next one comes.
GAP_US=2000
TIMEOUT_MS=500
SIGNALS=(HUP USR1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "signals: ${SIGNALS[*]}, $COUNT each per init" >&2
for name in "${INITS[@]}"; do
  init_argv "$name"
  for signal in "${SIGNALS[@]}"; do
    # SIGUSR1 to a bare Node process opens the V8 inspector on
    # 127.0.0.1:9229 (PLATFORM.md); not worth a listening debugger to show.
    if [[ $name == node-sea && $signal == USR1 ]]; then continue; fi
    "$BUILD/sigbench" "$(kill -l "$signal")" "$COUNT" "$GAP_US" "$TIMEOUT_MS" -- \
      unshare --pid --fork --mount-proc "${INIT_ARGV[@]}" "$BUILD/sigecho" </dev/null >"$work/$name-$signal"
  done
done

# "median p90" in µs, or why there is none.
latency_cells() {
  local file="$work/$1-$2"
  if [[ $1 == node-sea && $2 == USR1 ]]; then
    echo "not sent: opens Node's inspector | —"
  elif grep -q not-forwarded "$file"; then
    echo "not forwarded (no handler: the kernel drops it for PID 1) | —"
  else
    read -r median p90 _ < <(stats "$file")
    echo "$(ns_to_us "$median") | $(ns_to_us "$p90")"
  fi
}
median_of() { grep -q not-forwarded "$work/$1-$2" 2>/dev/null && return; stats "$work/$1-$2" | awk '{ print $1 }'; }

tini_hup=$(median_of tini HUP)
{
  echo "## 4. Signal forwarding latency"
  echo
  echo "kill(init's host pid) → the child's sigwaitinfo returns, CLOCK_MONOTONIC; $COUNT signals per init and"
  echo "signal, one at a time, ${GAP_US} µs apart. µs. Target: boxinit median ≤ 1 ms."
  echo
  echo "| init | SIGHUP median µs | p90 µs | SIGUSR1 median µs | p90 µs | SIGHUP vs tini | target |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for name in "${INITS[@]}"; do
    verdict="—"
    if [[ $name == boxinit ]]; then
      worst=$(cat "$work/boxinit-HUP" "$work/boxinit-USR1" | grep -c not-forwarded || true)
      verdict=$(awk -v h="$(median_of boxinit HUP)" -v u="$(median_of boxinit USR1)" -v lost="$worst" 'BEGIN {
        if (lost > 0) { print "missed: a signal was not forwarded"; exit }
        m = h > u ? h : u
        if (m <= 1e6) print "met"; else printf "missed by %.0f µs\n", (m - 1e6) / 1e3 }')
    fi
    echo "| $(init_label "$name") | $(latency_cells "$name" HUP) | $(latency_cells "$name" USR1) | $(ratio "$(median_of "$name" HUP)" "$tini_hup") | $verdict |"
  done
  echo
} >"$RESULTS_DIR/signals.md"

awk -v h="$(median_of boxinit HUP)" -v u="$(median_of boxinit USR1)" -v t="$tini_hup" 'BEGIN {
  m = h > u ? h : u
  printf "| signal forwarding ≤ 1 ms median | SIGHUP %.0f µs, SIGUSR1 %.0f µs (tini SIGHUP %.0f µs) | %s |\n", h / 1e3, u / 1e3, t / 1e3,
    (h != "" && u != "" && m <= 1e6) ? "met" : sprintf("missed by %.0f µs", (m - 1e6) / 1e3) }' >"$RESULTS_DIR/signals.summary"

cat "$RESULTS_DIR/signals.md"

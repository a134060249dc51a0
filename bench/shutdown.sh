#!/usr/bin/env bash
# Scenario 5, shutdown overhead: stopbench sends SIGTERM to the init's host
# pid (what `docker stop` does), sigecho stamps the signal and its own exit,
# and a pidfd on the init times the init's exit. Overhead = child's exit →
# init's exit. A second series sends SIGTERM to the child directly (the
# command ends by itself), which every init can be compared on.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

RUNS=${BENCH_SHUTDOWN_RUNS:-20}
# Let a Node init finish what it does right after spawning before the signal.
SETTLE_MS=100
TIMEOUT_MS=2000

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# stopbench prints "to_child child_own overhead total" in ns, or "no-exit".
run_series() {
  local name=$1 target=$2 runs=$3
  init_argv "$name"
  for ((run = 0; run < runs; run++)); do
    "$BUILD/stopbench" "$target" "$SETTLE_MS" "$TIMEOUT_MS" -- \
      unshare --pid --fork --mount-proc "${INIT_ARGV[@]}" "$BUILD/sigecho" </dev/null >>"$work/$name-$target"
  done
}

echo "shutdown: $RUNS runs per init and target" >&2
for name in "${INITS[@]}"; do
  # The bare Node SEA installs no SIGTERM handler, so as PID 1 the kernel
  # drops the signal: one run shows it, more would only wait out timeouts.
  if [[ $name == node-sea ]]; then run_series "$name" init 1; else run_series "$name" init "$RUNS"; fi
  run_series "$name" child "$RUNS"
done

# Column $3 (1-based) of the runs that finished, as a file for stats.
column_file() {
  local out="$work/$1-$2-col$3"
  grep -v no-exit "$work/$1-$2" | awk -v c="$3" '{ print $c }' >"$out"
  echo "$out"
}
median_ms() { stats "$(column_file "$@")" | awk '{ printf "%.2f", $1 / 1e6 }'; }
p90_ms() { stats "$(column_file "$@")" | awk '{ printf "%.2f", $2 / 1e6 }'; }
median_ns() { stats "$(column_file "$@")" | awk '{ print $1 }'; }

tini_overhead=$(median_ns tini init 3)
{
  echo "## 5. Shutdown overhead"
  echo
  echo "SIGTERM to the init's host pid; the child (sigecho) exits as soon as it gets it. Overhead = the child's"
  echo "exit (stamped just before _exit) → the init's exit (pidfd readable). Median (p90) of $RUNS runs, ms."
  echo "\"child ends by itself\": SIGTERM sent straight to the child, so the init only has to notice and exit."
  echo "Target: boxinit overhead ≤ 10 ms over the child's own exit."
  echo
  echo "| init | kill → child has SIGTERM ms | child's handler → its exit ms | overhead: child exit → init exit ms (p90) | kill → init exit ms | overhead vs tini | target | child ends by itself: child exit → init exit ms (p90) |"
  echo "|---|---:|---:|---:|---:|---:|---|---:|"
  for name in "${INITS[@]}"; do
    self="$(median_ms "$name" child 3) ($(p90_ms "$name" child 3))"
    if grep -q no-exit "$work/$name-init"; then
      echo "| $(init_label "$name") | ignores SIGTERM as PID 1 (no handler) | — | — | — | — | — | $self |"
      continue
    fi
    verdict="—"
    if [[ $name == boxinit ]]; then
      verdict=$(awk -v o="$(median_ns boxinit init 3)" 'BEGIN {
        if (o <= 10e6) print "met"; else printf "missed by %.2f ms\n", (o - 10e6) / 1e6 }')
    fi
    echo "| $(init_label "$name") | $(median_ms "$name" init 1) | $(median_ms "$name" init 2) | $(median_ms "$name" init 3) ($(p90_ms "$name" init 3)) | $(median_ms "$name" init 4) | $(ratio "$(median_ns "$name" init 3)" "$tini_overhead") | $verdict | $self |"
  done
  echo
} >"$RESULTS_DIR/shutdown.md"

awk -v o="$(median_ns boxinit init 3)" -v t="$tini_overhead" -v b="$(median_ns node-sea child 3)" 'BEGIN {
  printf "| shutdown overhead ≤ 10 ms | %.2f ms (tini %.2f ms; bare Node SEA exiting after its child %.2f ms) | %s |\n",
    o / 1e6, t / 1e6, b / 1e6, (o <= 10e6) ? "met" : sprintf("missed by %.2f ms", (o - 10e6) / 1e6) }' >"$RESULTS_DIR/shutdown.summary"

cat "$RESULTS_DIR/shutdown.md"

#!/usr/bin/env bash
# Scenario 1, start-up latency: CLOCK_MONOTONIC from the execve of the init
# (PID 1 of a new PID namespace) to the first line of its child's main(),
# stamped by stamp-exec and stamp. Plus, with hyperfine, the wall time of a
# whole `unshare ... INIT /bin/true` run (start, child, reap, exit).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

RUNS=${BENCH_STARTUP_RUNS:-60}
WARMUP_RUNS=3
WALL_RUNS=${BENCH_WALL_RUNS:-30}
# boxinit three times: with boxinit.node beside it (dist/), the same with a
# state directory present (`--state-dir DIR`: status and the backoff watch),
# and with the addon extracted from the SEA blob; "none" is the floor:
# stamp-exec execs the child.
STARTUP_INITS=(boxinit boxinit-state-dir boxinit-embedded tini dumb-init node-sea none)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One directory for every run, as a volume is kept across a container's
# starts: from the second run on it holds the previous run's status files.
export BENCH_STATE_DIR="$work/state"
mkdir "$BENCH_STATE_DIR"

# One run: the child's stamp minus the exec stamp, in ns.
measure_once() {
  local name=$1 stamp_file="$work/stamps"
  init_argv "$name"
  rm -f "$stamp_file"
  in_namespace "$BUILD/stamp-exec" "$stamp_file" "${INIT_ARGV[@]}" "$BUILD/stamp" "$stamp_file"
  local exec_ns child_ns
  exec_ns=$(awk '$1 == "exec" { print $2 }' "$stamp_file")
  child_ns=$(awk '$1 == "child" { print $2 }' "$stamp_file")
  if [[ -z $exec_ns || -z $child_ns ]]; then
    echo "startup: $name: the child never stamped (exec '$exec_ns', child '$child_ns')" >&2
    return 1
  fi
  # Bash arithmetic is 64-bit: awk's doubles would round boot-relative ns.
  echo $((child_ns - exec_ns))
}

echo "startup: $RUNS runs per init (+$WARMUP_RUNS warm-up), interleaved" >&2
count=${#STARTUP_INITS[@]}
for ((run = 0; run < WARMUP_RUNS + RUNS; run++)); do
  # Rotate the order each round so no init always follows the same one
  # (page cache, CPU frequency, the previous namespace's teardown).
  for ((i = 0; i < count; i++)); do
    name=${STARTUP_INITS[(run + i) % count]}
    ns=$(measure_once "$name") || exit 1
    ((run < WARMUP_RUNS)) || echo "$ns" >>"$work/startup-$name"
  done
done

echo "startup: wall time of INIT /bin/true, hyperfine, $WALL_RUNS runs each" >&2
wall_commands=()
for name in "${STARTUP_INITS[@]}"; do
  init_argv "$name"
  wall_commands+=("unshare --pid --fork --mount-proc ${INIT_ARGV[*]} /bin/true")
done
# hyperfine's outlier warnings are expected on a shared 2-core machine; keep
# its output for when it fails.
if ! hyperfine -N --warmup 3 --runs "$WALL_RUNS" --style none --export-json "$work/wall.json" \
  "${wall_commands[@]}" </dev/null >"$work/hyperfine.log" 2>&1; then
  cat "$work/hyperfine.log" >&2
  exit 1
fi
for ((i = 0; i < count; i++)); do
  jq -r ".results[$i].times[]" "$work/wall.json" | awk '{ printf "%.0f\n", $1 * 1e9 }' >"$work/wall-${STARTUP_INITS[i]}"
done

read -r bare_median _ _ < <(stats "$work/startup-node-sea")
read -r tini_median _ _ < <(stats "$work/startup-tini")
limit_ns=$(awk -v b="$bare_median" 'BEGIN { printf "%.0f", b * 1.15 }')

{
  echo "## 1. Start-up latency"
  echo
  echo "exec of the init as PID 1 → first instruction of its child's main(), CLOCK_MONOTONIC;"
  echo "$RUNS runs per init, interleaved. Wall time: a whole \`unshare --pid --fork --mount-proc INIT /bin/true\`"
  echo "(hyperfine, $WALL_RUNS runs; includes unshare, the namespace and the init's exit)."
  echo "\"State directory present\": \`boxinit -q --state-dir DIR -- stamp\`, one existing directory for all runs, as a"
  echo "volume is across a container's starts (from the second run on it holds the previous run's status files)."
  echo "Target: boxinit ≤ 1.15× the bare Node 24 SEA hello world (here ≤ $(ns_to_ms "$limit_ns") ms)."
  echo
  echo "| init | median ms | p90 ms | min ms | vs bare Node SEA | vs tini | target | wall \`INIT /bin/true\` median ms (p90) |"
  echo "|---|---:|---:|---:|---:|---:|---|---:|"
  for name in "${STARTUP_INITS[@]}"; do
    read -r median p90 _ < <(stats "$work/startup-$name")
    read -r wall_median wall_p90 _ < <(stats "$work/wall-$name")
    verdict="—"
    if [[ $name == boxinit* ]]; then
      verdict=$(awk -v m="$median" -v b="$bare_median" -v l="$limit_ns" 'BEGIN {
        if (m <= l) print "met"
        else printf "missed by %.2f ms (%.2f× instead of 1.15×)\n", (m - l) / 1e6, m / b }')
    fi
    # The minimum is the run least disturbed by other work on the machine.
    min=$(sort -n "$work/startup-$name" | head -1)
    echo "| $(init_label "$name") | $(ns_to_ms "$median") | $(ns_to_ms "$p90") | $(ns_to_ms "$min") | $(ratio "$median" "$bare_median") | $(ratio "$median" "$tini_median") | $verdict | $(ns_to_ms "$wall_median") ($(ns_to_ms "$wall_p90")) |"
  done
  echo
} >"$RESULTS_DIR/startup.md"

# For the chart (charts.sh): one row per init, its label quoted for gnuplot.
{
  echo "# init median_ms p90_ms target_ms"
  for name in "${STARTUP_INITS[@]}"; do
    read -r median p90 _ < <(stats "$work/startup-$name")
    echo "\"$(init_label "$name" | sed 's/ (`--state-dir DIR`)//; s/`//g; s/"//g')\" $(ns_to_ms "$median") $(ns_to_ms "$p90") $(ns_to_ms "$limit_ns")"
  done
} >"$RESULTS_DIR/startup.dat"

read -r box_median _ _ < <(stats "$work/startup-boxinit")
read -r state_median _ _ < <(stats "$work/startup-boxinit-state-dir")
{
  awk -v m="$box_median" -v b="$bare_median" -v l="$limit_ns" 'BEGIN {
    printf "| start-up ≤ 1.15× bare Node 24 SEA | %.2f ms = %.2f× (bare %.2f ms) | %s |\n", m / 1e6, m / b, b / 1e6,
      (m <= l) ? "met" : sprintf("missed by %.2f ms", (m - l) / 1e6) }'
  awk -v m="$state_median" -v b="$bare_median" -v l="$limit_ns" 'BEGIN {
    printf "| start-up with a state directory (`--state-dir DIR -- CMD`) ≤ 1.15× bare Node 24 SEA | %.2f ms = %.2f× (bare %.2f ms) | %s |\n", m / 1e6, m / b, b / 1e6,
      (m <= l) ? "met" : sprintf("missed by %.2f ms", (m - l) / 1e6) }'
} >"$RESULTS_DIR/startup.summary"

cat "$RESULTS_DIR/startup.md"

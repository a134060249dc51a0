#!/usr/bin/env bash
# Scenario 7, Mini-VM start-up overhead: boxinit as PID 1 of a fresh PID
# namespace with a config of one service (boxstamp serve: up at its first
# instruction) whose warm-up is a command that passes at its first try
# (boxstamp exit). stamp-exec stamps the exec of boxinit; the service and the
# check stamp their first instructions (and the check its exit); boxdrive
# stamps when STATE/status says `running`. Overhead = exec → `running` minus
# the service's own start-up (the same static binary exec'd with no init).
# Interleaved in the same rounds, for context: scenario 1's tini-style path
# `boxinit -- stamp` and the bare Node 24 SEA, whose exec → child is Node's
# own start-up plus one spawn; and the same Mini-VM box with `backoff: {watch:
# poll}`, which shows what the backoff directory watcher costs. And the
# issue 17 target: exec → `running` ≤ 1.15× exec → exit of `boxinit -q --
# /bin/true` ([stamp-wait](stamp-wait.c) stamps its end), in the same rounds.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

RUNS=${BENCH_MINI_VM_RUNS:-30}
WARMUP_RUNS=3
TIMEOUT_MS=10000
# "mini-vm-inotify" is the scenario (the default config); "mini-vm-poll" the
# same without the directory watcher; the rest are scenario 1's exec → child,
# measured again in the same rounds so the rows compare under the same load.
KINDS=(mini-vm-inotify mini-vm-poll boxinit node-sea none boxinit-exit)
SEGMENTS=(spawn to-check check-own to-running total)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One Mini-VM run with backoff watch mode $1: appends each segment (ns) to
# $work/SEGMENT-MODE.
measure_mini_vm() {
  local mode=$1 run_dir="$work/run"
  rm -rf "$run_dir"
  mkdir -p "$run_dir/state"
  cat >"$run_dir/boxinit.yaml" <<YAML
state_dir: $run_dir/state
# Absent directories: no init or finish scripts from the host.
init_dir: $run_dir/init.d
finish_dir: $run_dir/finish.d
backoff:
  watch: $mode
  # Only how soon the run ends after its backoff (poll mode); not measured.
  poll_interval: 100ms
services:
  app:
    command: [$BUILD/boxstamp, $run_dir/stamps, service, serve]
    warmup:
      command: [$BUILD/boxstamp, $run_dir/stamps, check, exit]
YAML
  local result
  # The run ends with a backoff written at once after `running` (a clean
  # exit, not measured). --kill-child: should this script die, the box dies
  # with unshare.
  result=$("$BUILD/boxdrive" "$run_dir/state" "$run_dir/stamps" inplace 0 0 "$TIMEOUT_MS" -- \
    unshare --pid --fork --mount-proc --kill-child "$BUILD/stamp-exec" "$run_dir/stamps" \
    "$BOXINIT" -q --config "$run_dir/boxinit.yaml" 2>"$run_dir/boxinit.log")
  if [[ $result != "ok 0" ]]; then
    echo "mini-vm-start: boxinit run ended with \"$result\" (expected \"ok 0\"); its log:" >&2
    cat "$run_dir/boxinit.log" >&2
    exit 1
  fi
  local -A at
  local label ns
  while read -r label ns _; do at[$label]=$ns; done <"$run_dir/stamps"
  for label in exec service check check-exit running; do
    if [[ -z ${at[$label]:-} ]]; then
      echo "mini-vm-start: no \"$label\" stamp:" >&2
      cat "$run_dir/stamps" "$run_dir/boxinit.log" >&2
      exit 1
    fi
  done
  # Bash arithmetic is 64-bit: awk's doubles would round boot-relative ns.
  echo $((at[service] - at[exec])) >>"$work/spawn-$mode"
  echo $((at[check] - at[service])) >>"$work/to-check-$mode"
  echo $((at[check-exit] - at[check])) >>"$work/check-own-$mode"
  echo $((at[running] - at[check-exit])) >>"$work/to-running-$mode"
  echo $((at[running] - at[exec])) >>"$work/total-$mode"
}

# One run of scenario 1's measurement: the child's stamp minus the exec stamp, in ns.
measure_exec_to_child() {
  local name=$1 stamp_file="$work/stamps"
  init_argv "$name"
  rm -f "$stamp_file"
  in_namespace "$BUILD/stamp-exec" "$stamp_file" "${INIT_ARGV[@]}" "$BUILD/stamp" "$stamp_file"
  local exec_ns child_ns
  exec_ns=$(awk '$1 == "exec" { print $2 }' "$stamp_file")
  child_ns=$(awk '$1 == "child" { print $2 }' "$stamp_file")
  echo $((child_ns - exec_ns))
}

# One run of `boxinit -q -- /bin/true` as PID 1: exec of boxinit → its run
# over (unshare, its parent, gone); appends ns to $work/exit-boxinit.
measure_tini_exit() {
  local stamp_file="$work/stamps-exit"
  rm -f "$stamp_file"
  "$BUILD/stamp-wait" "$stamp_file" "$(command -v unshare)" --pid --fork --mount-proc --kill-child \
    "$BUILD/stamp-exec" "$stamp_file" "$BOXINIT" -q -- /bin/true
  local exec_ns exit_ns
  exec_ns=$(awk '$1 == "exec" { print $2 }' "$stamp_file")
  exit_ns=$(awk '$1 == "exit" { print $2 }' "$stamp_file")
  echo $((exit_ns - exec_ns))
}

# "median p90 min max count" of the integers in file $1 (nearest-rank p90).
spread() {
  sort -n "$1" | awk '
    { v[NR] = $1 }
    END {
      median = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      rank = int(0.9 * NR); if (rank < 0.9 * NR) rank++; if (rank < 1) rank = 1
      printf "%.0f %.0f %.0f %.0f %d\n", median, v[rank], v[1], v[NR], NR
    }'
}
median_of() { spread "$1" | awk '{ print $1 }'; }

echo "mini-vm-start: $RUNS runs per kind (+$WARMUP_RUNS warm-up), interleaved" >&2
count=${#KINDS[@]}
for ((run = 0; run < WARMUP_RUNS + RUNS; run++)); do
  # Rotate the order each round so no kind always follows the same one.
  for ((i = 0; i < count; i++)); do
    kind=${KINDS[(run + i) % count]}
    if [[ $kind == mini-vm-* ]]; then
      measure_mini_vm "${kind#mini-vm-}"
      # Warm-up rounds: measured the same way, then dropped.
      if ((run < WARMUP_RUNS)); then
        for segment in "${SEGMENTS[@]}"; do rm -f "$work/$segment-${kind#mini-vm-}"; done
      fi
    elif [[ $kind == boxinit-exit ]]; then
      ns=$(measure_tini_exit)
      ((run < WARMUP_RUNS)) || echo "$ns" >>"$work/exit-boxinit"
    else
      ns=$(measure_exec_to_child "$kind")
      ((run < WARMUP_RUNS)) || echo "$ns" >>"$work/child-$kind"
    fi
  done
done

# The overhead of each run: exec → `running` minus the service's own start-up
# (the median of the direct exec, the same static binary with no init).
own_ns=$(median_of "$work/child-none")
for mode in inotify poll; do
  awk -v own="$own_ns" '{ print $1 - own }' "$work/total-$mode" >"$work/overhead-$mode"
done

overhead_ns=$(median_of "$work/overhead-inotify")
spawn_ns=$(median_of "$work/spawn-inotify")
tini_path_ns=$(median_of "$work/child-boxinit")
node_ns=$(median_of "$work/child-node-sea")
verdict=$(awk -v o="$overhead_ns" 'BEGIN { if (o <= 50e6) print "met"; else printf "missed by %.2f ms\n", (o - 50e6) / 1e6 }')
total_ns=$(median_of "$work/total-inotify")
exit_ns=$(median_of "$work/exit-boxinit")
ratio_verdict=$(awk -v m="$total_ns" -v e="$exit_ns" 'BEGIN { r = m / e; if (r <= 1.15) print "met"; else printf "missed (%.2f× instead of 1.15×)\n", r }')

row() {
  local label=$1 file=$2 verdict=${3:-—} median p90 min max
  read -r median p90 min max _ < <(spread "$file")
  echo "| $label | $(ns_to_ms "$median") | $(ns_to_ms "$p90") | $(ns_to_ms "$min") | $(ns_to_ms "$max") | $verdict |"
}

{
  echo "## 7. Mini-VM start-up overhead"
  echo
  echo "boxinit as PID 1 of its own PID namespace (\`-q\`), a config of one service that is up at its first"
  echo "instruction ([boxstamp](boxstamp.c) \`serve\`) with \`warmup: {command: [boxstamp ... exit]}\`, which passes at"
  echo "its first try. CLOCK_MONOTONIC stamps: [stamp-exec](stamp-exec.c) right before the exec of boxinit; the"
  echo "service's and the check's first instructions and the check's exit; \`running\` when [boxdrive](boxdrive.c)'s"
  echo "inotify watch on the state directory wakes up for the \`status\` rename that says \`running\`."
  echo "$RUNS runs, interleaved with scenario 1's exec → child of the rows below the line."
  echo "Target: ≤ 50 ms from boxinit's start to \`running\`, minus the service's own start time."
  echo
  echo "| segment | median ms | p90 ms | min ms | max ms | target |"
  echo "|---|---:|---:|---:|---:|---|"
  row "boxinit exec → the service's first instruction (Node start-up, config, status file, backoff watcher, spawn)" "$work/spawn-inotify"
  row "the service's first instruction → the warm-up check's first instruction" "$work/to-check-inotify"
  row "the check's own run (first instruction → exit)" "$work/check-own-inotify"
  row "the check's exit → \`running\` written" "$work/to-running-inotify"
  row "**boxinit exec → \`running\`**" "$work/total-inotify"
  row "the service's own start-up: the same static binary exec'd directly, no init (subtracted)" "$work/child-none"
  row "**overhead: exec → \`running\` minus the service's own start-up**" "$work/overhead-inotify" "$verdict"
  echo "| *same rounds, scenario 1's exec → child:* | | | | | |"
  row "$(init_label boxinit) \`-- stamp\` (the tini-style path: no config, no state directory)" "$work/child-boxinit"
  row "$(init_label node-sea) \`stamp\`: Node's own start-up plus one spawn" "$work/child-node-sea"
  row "boxinit \`-q -- /bin/true\`: exec → its run over (unshare, its parent, gone)" "$work/exit-boxinit"
  echo
  awk -v m="$total_ns" -v e="$exit_ns" -v v="$ratio_verdict" 'BEGIN {
    printf "Target (issue 17): exec → `running` ≤ 1.15× exec → the end of `boxinit -q -- /bin/true` in the same rounds:\n"
    printf "%.2f ms / %.2f ms = **%.2f×**: %s.\n", m / 1e6, e / 1e6, m / e, v }'
  echo
  awk -v o="$overhead_ns" -v n="$node_ns" -v t="$tini_path_ns" -v s="$spawn_ns" -v total="$(median_of "$work/total-inotify")" -v own="$own_ns" 'BEGIN {
    printf "Of the %.1f ms overhead (medians), %.1f ms is Node'"'"'s own start-up (the bare SEA'"'"'s exec → child, which\n", o / 1e6, n / 1e6
    printf "includes one spawn), %.1f ms more is what boxinit'"'"'s tini-style path adds to it, and %.1f ms more is what Mini-VM\n", (t - n) / 1e6, (s - t) / 1e6
    printf "mode does before the service is spawned (config load, status file, backoff watcher); the remaining\n"
    printf "%.1f ms run from the service'"'"'s start to `running` (the warm-up check spawned and reaped, the status\n", (total - s) / 1e6
    printf "write), less the service'"'"'s own %.2f ms.\n", own / 1e6
  }'
  echo
  echo "What the backoff directory watcher costs: the same box with \`backoff: {watch: poll}\` (no"
  echo "inotify watch on the state directory, which otherwise wakes up for boxinit's own status writes too),"
  echo "interleaved in the same rounds. Medians (p90), ms."
  echo
  echo "| segment | \`watch: inotify\` (default) | \`watch: poll\` | difference |"
  echo "|---|---:|---:|---:|"
  for segment in spawn to-check to-running total overhead; do
    case $segment in
      spawn) label="boxinit exec → the service's first instruction" ;;
      to-check) label="the service's first instruction → the warm-up check's first instruction" ;;
      to-running) label="the check's exit → \`running\` written" ;;
      total) label="boxinit exec → \`running\`" ;;
      overhead) label="overhead (minus the service's own start-up)" ;;
    esac
    read -r inotify_median inotify_p90 _ _ _ < <(spread "$work/$segment-inotify")
    read -r poll_median poll_p90 _ _ _ < <(spread "$work/$segment-poll")
    echo "| $label | $(ns_to_ms "$inotify_median") ($(ns_to_ms "$inotify_p90")) | $(ns_to_ms "$poll_median") ($(ns_to_ms "$poll_p90")) | $(ns_to_ms $((inotify_median - poll_median))) |"
  done
  echo
} >"$RESULTS_DIR/mini-vm-start.md"

awk -v o="$overhead_ns" -v n="$node_ns" -v v="$verdict" 'BEGIN {
  printf "| Mini-VM start → `running` overhead ≤ 50 ms | %.2f ms (of which Node'"'"'s own start-up %.2f ms) | %s |\n", o / 1e6, n / 1e6, v }' \
  >"$RESULTS_DIR/mini-vm-start.summary"
awk -v m="$total_ns" -v e="$exit_ns" -v v="$ratio_verdict" 'BEGIN {
  printf "| Mini-VM start: exec → `running` ≤ 1.15× exec → exit of `boxinit -- /bin/true` | %.2f ms = %.2f× (%.2f ms) | %s |\n", m / 1e6, m / e, e / 1e6, v }' \
  >>"$RESULTS_DIR/mini-vm-start.summary"

cat "$RESULTS_DIR/mini-vm-start.md"

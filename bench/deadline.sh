#!/usr/bin/env bash
# The shutdown budget's deadline, timed: how long after the grace period a
# stop that has to SIGKILL really ends. The tests assert boxinit's decisions
# (phase order, a SIGKILL no earlier than its share), which hold on a loaded
# machine; how close to the deadline the end comes is a measurement, kept
# here. boxinit alone (tini and dumb-init have no budget), as PID 1 of its
# own namespace, two cases:
#   main: `--grace 1s -- sh -c "trap '' TERM; ..."`: the command ignores TERM
#         and is killed at the deadline;
#   services: grace 2s, a service that ignores TERM and one stopped after it
#         (test/fixtures/services/ignore-term.sh and term-logger.sh): the
#         first is killed at its share, the other stops at once, so the box
#         ends before the deadline.
# Each run: wait for "ready", settle, SIGTERM to boxinit, time its end.
# Prints the end relative to the deadline (TERM + grace), median and p90, in
# ms: negative is inside the budget.
# Runs on its own: bash bench/deadline.sh (root; BENCH_DEADLINE_RUNS, default 15).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${BENCH_DEADLINE_RUNS:-15}
SETTLE_S=0.2
FIX="$REPO/test/fixtures/services"
[ -x "$BOXINIT" ] || { echo "deadline: $BOXINIT is missing: run make" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state"
cat >"$work/services.yaml" <<EOF
state_dir: $work/state
init_dir: $work/init.d
finish_dir: $work/finish.d
grace: 2s
services:
  good: {command: [$FIX/term-logger.sh, good, $work/order]}
  stubborn: {command: [$FIX/ignore-term.sh, stubborn], after: [good]}
EOF

# One run of "$@" under unshare; appends (end - TERM) in microseconds to $1's file.
time_one() {
  local name=$1 ready=$2
  shift 2
  local out="$work/$name.out" launcher init
  rm -f "$out"
  # unshare itself in the background (not a function: that would be a subshell
  # in between), so its child is boxinit, PID 1 of the namespace.
  unshare --pid --fork --mount-proc "$@" </dev/null >"$out" 2>/dev/null &
  launcher=$!
  until grep -q "$ready" "$out" 2>/dev/null; do sleep 0.01; done
  sleep "$SETTLE_S"
  init=$(tr -d ' ' <"/proc/$launcher/task/$launcher/children")
  local sent=$EPOCHREALTIME
  kill -TERM "$init"
  wait "$launcher" || true
  local ended=$EPOCHREALTIME
  awk -v a="$sent" -v b="$ended" 'BEGIN { printf "%.0f\n", (b - a) * 1e6 }' >>"$work/$name.us"
}

echo "deadline: $RUNS runs per case" >&2
for ((run = 0; run < RUNS; run++)); do
  time_one main '^ready$' "$BOXINIT" -q --grace 1s -- /bin/sh -c "trap '' TERM; echo ready; exec sleep 1000"
  time_one services 'stubborn ready' "$BOXINIT" -q --config "$work/services.yaml"
done

row() {
  local name=$1 grace_ms=$2 median p90 count
  read -r median p90 count < <(stats "$work/$name.us")
  printf '| %s | %s ms | %.1f | %.1f | %s |\n' "$name" "$grace_ms" \
    "$(awk -v v="$median" -v g="$grace_ms" 'BEGIN { print v / 1e3 - g }')" \
    "$(awk -v v="$p90" -v g="$grace_ms" 'BEGIN { print v / 1e3 - g }')" "$count"
}
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| case | grace | end − deadline, median ms | p90 ms | runs |"
echo "|---|---:|---:|---:|---:|"
row main 1000
row services 2000

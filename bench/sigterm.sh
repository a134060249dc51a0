#!/usr/bin/env bash
# Scenario 11, SIGTERM latency as PID 1: SIGTERM to the init's host pid (what
# `docker stop` does) → the command's handler runs. The SIGTERM ends the run,
# so each sample is one whole run: stopbench starts `unshare ... INIT sigecho`,
# waits for "ready" and a settle time, stamps, kill()s the init, and reads the
# stamp sigecho takes when its sigwaitinfo returns with the SIGTERM (column 1
# of stopbench's line). Runs interleaved, the order rotated every round.
# Split by sigecho's run delay (column 5): how much of it the command spent
# runnable, waiting for a CPU (on 2 busy cores, often for the init, which goes
# on working after its forward), and the rest: kill → the command is woken.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

RUNS=${BENCH_SIGTERM_RUNS:-120}
WARMUP_RUNS=3
# As in scenario 5: the init is idle when the stop comes, as PID 1 usually is,
# not still finishing what it does right after spawning.
SETTLE_MS=100
TIMEOUT_MS=2000
TARGET_NS=500000
# boxinit twice: plain, and with a state directory present (the
# self-managing run: status files, the backoff watch). The bare Node SEA
# without a handler is left out: as PID 1 the kernel drops the SIGTERM
# (scenario 5 shows it); this one forwards in process.on('SIGTERM').
SIGTERM_INITS=(boxinit boxinit-state-dir tini dumb-init node-sea-forward)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One directory for every run, as a volume is kept across a container's starts.
export BENCH_STATE_DIR="$work/state"
mkdir "$BENCH_STATE_DIR"

# stopbench prints "to_child child_own overhead total waited" in ns, "no-exit"
# when the init was still running at TIMEOUT_MS, and fails when the init
# exited but the child never reported the SIGTERM: both count as not
# forwarded. Prints "latency waited" or why there is none.
measure_once() {
  local name=$1 line
  init_argv "$name"
  if ! line=$("$BUILD/stopbench" init "$SETTLE_MS" "$TIMEOUT_MS" -- \
    unshare --pid --fork --mount-proc "${INIT_ARGV[@]}" "$BUILD/sigecho" </dev/null 2>>"$work/stderr"); then
    line=failed
  fi
  case $line in
    no-exit | failed) echo "$line" ;;
    *) awk '{ print $1, $5 }' <<<"$line" ;;
  esac
}

echo "sigterm: $RUNS runs per init (+$WARMUP_RUNS warm-up), interleaved, ${SETTLE_MS} ms settle" >&2
count=${#SIGTERM_INITS[@]}
for ((run = 0; run < WARMUP_RUNS + RUNS; run++)); do
  for ((i = 0; i < count; i++)); do
    name=${SIGTERM_INITS[(run + i) % count]}
    read -r latency waited < <(measure_once "$name")
    if ((run < WARMUP_RUNS)); then continue; fi
    if [[ ! $latency =~ ^[0-9]+$ ]]; then
      echo "$latency" >>"$work/$name-lost"
      continue
    fi
    echo "$latency" >>"$work/$name"
    if [[ $waited =~ ^[0-9]+$ ]]; then
      echo "$waited" >>"$work/$name-waited"
      echo $((latency - waited)) >>"$work/$name-woken"
    fi
  done
done

lost_of() { if [[ -f $work/$1-lost ]]; then wc -l <"$work/$1-lost"; else echo 0; fi; }
median_of() { [[ -s $work/$1 ]] && stats "$work/$1" | awk '{ print $1 }'; }
# How many runs of $1 the command waited ≥ 0.2 ms for a CPU: "n of N".
waited_runs() {
  if [[ ! -s $work/$1-waited ]]; then echo "—"; return; fi
  awk '$1 >= 200000 { n++ } END { printf "%d of %d\n", n, NR }' "$work/$1-waited"
}
# "median (p90)" in µs of file $1, or "—".
median_p90_us() {
  if [[ ! -s $work/$1 ]]; then echo "—"; return; fi
  read -r median p90 _ < <(stats "$work/$1")
  echo "$(ns_to_us "$median") ($(ns_to_us "$p90"))"
}

tini_median=$(median_of tini || true)
forward_median=$(median_of node-sea-forward || true)
{
  echo "## 11. SIGTERM latency as PID 1"
  echo
  echo "SIGTERM to the init's host pid (what \`docker stop\` does) → the command ([sigecho](sigecho.c)) has it:"
  echo "its sigwaitinfo returns, CLOCK_MONOTONIC. The SIGTERM ends the run, so each sample is one run of"
  echo "\`unshare --pid --fork --mount-proc INIT sigecho\`, signalled ${SETTLE_MS} ms after the command said ready;"
  echo "$RUNS runs per init, interleaved. µs; p90 is nearest-rank. The bare Node 24 SEA here is the hello world"
  echo "plus \`process.on('SIGTERM', () => child.kill('SIGTERM'))\` ([forward-init.cjs](forward-init.cjs)). \"State directory"
  echo "present\": \`boxinit -q --state-dir DIR -- sigecho\`, one existing directory for all runs."
  echo "Split by sigecho's run delay (/proc/self/schedstat, read before its wait and after the stamp): the time"
  echo "it was runnable but waiting for a CPU, and the rest, kill → the command is woken, which includes the init's"
  echo "own wait for a CPU (medians and p90s of each part, so they do not add up). On 2 cores the command's wait is"
  echo "for the CPU the init (still working after its forward) or other work holds; a bimodal distribution"
  echo "(median between the modes) shows in how many runs it waited at all."
  echo "Target: boxinit median ≤ 0.5 ms."
  echo
  echo "| init | median µs | p90 µs | min µs | kill → woken: median (p90) µs | waiting for a CPU: median (p90) µs | runs it waited ≥ 0.2 ms | vs tini | vs bare Node SEA forwarding | not forwarded | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for name in "${SIGTERM_INITS[@]}"; do
    lost=$(lost_of "$name")
    if [[ ! -s $work/$name ]]; then
      echo "| $(init_label "$name") | — | — | — | — | — | — | — | — | $lost of $RUNS | never forwarded |"
      continue
    fi
    read -r median p90 n < <(stats "$work/$name")
    min=$(sort -n "$work/$name" | head -1)
    verdict="—"
    if [[ $name == boxinit* ]]; then
      verdict=$(awk -v m="$median" -v t="$TARGET_NS" -v lost="$lost" 'BEGIN {
        if (lost > 0) { print "missed: a SIGTERM was not forwarded"; exit }
        if (m <= t) print "met"; else printf "missed by %.0f µs\n", (m - t) / 1e3 }')
    fi
    echo "| $(init_label "$name") | $(ns_to_us "$median") | $(ns_to_us "$p90") | $(ns_to_us "$min") | $(median_p90_us "$name-woken") | $(median_p90_us "$name-waited") | $(waited_runs "$name") | $(ratio "$median" "$tini_median") | $(ratio "$median" "$forward_median") | $lost of $((n + lost)) | $verdict |"
  done
  echo
} >"$RESULTS_DIR/sigterm.md"

# One Targets row per boxinit row: "name|what the row says".
for row in "boxinit|SIGTERM to PID 1 → the command has it ≤ 0.5 ms median" \
  "boxinit-state-dir|SIGTERM to PID 1 with a state directory → the command has it ≤ 0.5 ms median"; do
  name=${row%%|*}
  awk -v what="${row#*|}" -v m="$(median_of "$name" || true)" -v p="$(stats "$work/$name" 2>/dev/null | awk '{ print $2 }')" \
    -v w="$(stats "$work/$name-woken" 2>/dev/null | awk '{ print $1 }')" \
    -v t="$tini_median" -v f="$forward_median" -v l="$TARGET_NS" -v lost="$(lost_of "$name")" 'BEGIN {
    if (m == "") { printf "| %s | never forwarded | missed |\n", what; exit }
    printf "| %s | %.2f ms, p90 %.2f ms, kill → woken %.2f ms (tini %.2f ms, bare Node SEA forwarding %.2f ms) | %s |\n",
      what, m / 1e6, p / 1e6, w / 1e6, t / 1e6, f / 1e6,
      (lost > 0) ? "missed: a SIGTERM was not forwarded" : (m <= l) ? "met" : sprintf("missed by %.2f ms", (m - l) / 1e6) }'
done >"$RESULTS_DIR/sigterm.summary"

if [[ -s $work/stderr ]]; then
  echo "sigterm: stopbench said:" >&2
  sort "$work/stderr" | uniq -c >&2
fi
cat "$RESULTS_DIR/sigterm.md"

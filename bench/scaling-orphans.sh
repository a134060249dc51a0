#!/usr/bin/env bash
# Scenario 17, orphans at once, 2,000 up to 100,000: scenario 3's zombies mode
# (a middle process forks N children that exit at once, waits until all are
# zombies and exits: the kernel hands all N to PID 1 in one go; the init's
# child polls /proc/1/task/*/children until none is left) at growing N, for
# boxinit and tini. Every process of a PID namespace also holds a pid in the
# host's namespace, so N is bounded by the HOST's kernel.pid_max (a
# namespace's own pid_max, Linux 6.14 and later, cannot lift that): sizes
# that would leave fewer than 2,000 host pids free are skipped and said so.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=scaling-lib.sh
source "$BENCH/scaling-lib.sh"
ensure_built

read -r -a WANTED <<<"$(scale_sizes "2000 5000 10000 20000 50000 100000" BENCH_SCALE_ORPHANS)"
REPS=${BENCH_SCALE_ORPHAN_REPS:-3}
# Seconds after the hand-over before a run counts as "not all reaped".
DEADLINE_MS=30000
# Host pids left for everything else on the machine while a run holds N.
MARGIN=2000
SCALE_INITS=(boxinit tini)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pid_max=$(cat /proc/sys/kernel/pid_max)
in_use=$(find /proc/[0-9]*/task -maxdepth 1 -mindepth 1 2>/dev/null | wc -l)
SIZES=()
SKIPPED=()
for size in "${WANTED[@]}"; do
  if ((size + in_use + MARGIN <= pid_max)); then SIZES+=("$size"); else SKIPPED+=("$size"); fi
done
((${#SIZES[@]} > 0)) || { echo "scaling-orphans: kernel.pid_max $pid_max leaves room for none of ${WANTED[*]}" >&2; exit 2; }
TOP=${SIZES[-1]}

field() { tr ' ' '\n' <<<"$1" | awk -F= -v key="$2" '$1 == key { print $2 }'; }

echo "scaling-orphans: sizes ${SIZES[*]} (skipped: ${SKIPPED[*]:-none}; host pid_max $pid_max), $REPS runs each, ${SCALE_INITS[*]}" >&2
for ((rep = 0; rep < REPS; rep++)); do
  for size in "${SIZES[@]}"; do
    for name in "${SCALE_INITS[@]}"; do
      init_argv "$name"
      line=$(in_namespace "${INIT_ARGV[@]}" "$BUILD/orphans" zombies "$size" "$DEADLINE_MS" proc)
      reap_ns=$(field "$line" reap_ns)
      if ((reap_ns < 0)); then
        echo "scaling-orphans: $name: $(field "$line" left_at_deadline) of $size orphans left after $((DEADLINE_MS / 1000)) s" >&2
        exit 1
      fi
      echo "$reap_ns" >>"$work/$name-$size"
    done
  done
done

dat="$RESULTS_DIR/scaling-orphans.dat"
{
  echo "# orphans boxinit_ms tini_ms"
  for size in "${SIZES[@]}"; do
    awk -v n="$size" -v b="$(median_of "$work/boxinit-$size")" -v t="$(median_of "$work/tini-$size")" \
      'BEGIN { printf "%d %.3f %.3f\n", n, b / 1e6, t / 1e6 }'
  done
} >"$dat"
add_target "$dat" 2 linear boxinit_target_ms
verdict=$(curve_verdict "$dat" 2 4 5)
skipped_note=""
if ((${#SKIPPED[@]} > 0)); then
  skipped_note="Not run here: ${SKIPPED[*]} orphans (the host's kernel.pid_max is $pid_max, $in_use pids were in use; raise it with \`sysctl kernel.pid_max=4194304\` on the host to measure them)."
fi

{
  echo "## 17. Scaling: orphans at once"
  echo
  echo "Scenario 3's zombies mode at growing N: a middle process forks N children that exit at once, waits until"
  echo "all are zombies and exits (the stamp is taken right before: the kernel's hand-over of N zombies to PID 1 is"
  echo "inside the time); then the namespace's /proc is read until it lists no process but PID 1 and the measuring"
  echo "child ([orphans](orphans.c) \`proc\`: a zombie stays listed until reaped; polled every 0.2 ms, each poll"
  echo "reads all N entries, on the other core). Scenario 3 polls /proc/1/task/*/children instead, which the kernel"
  echo "builds under the lock the reaper also needs: at 10,000 children that slowed the reaping it timed."
  echo "Median of $REPS runs, boxinit and tini interleaved."
  echo "Every process of the namespace also holds a pid in the host's namespace, so N is bounded by the host's"
  echo "kernel.pid_max ($pid_max here): a namespace's own pid_max (Linux ≥ 6.14) does not lift it."
  [[ -z $skipped_note ]] || echo "$skipped_note"
  echo "Target: linear or better: at $TOP orphans at most 1.25× the straight line through the first and the middle size (plus 5 ms)."
  echo
  echo "| orphans at once | boxinit: all reaped ms | orphans/s | tini: all reaped ms | orphans/s | boxinit vs tini |"
  echo "|---:|---:|---:|---:|---:|---:|"
  awk '!/^#/ { printf "| %d | %.1f | %.0f | %.1f | %.0f | %.2f× |\n", $1, $2, $1 / ($2 / 1e3), $3, $1 / ($3 / 1e3), $2 / $3 }' "$dat"
  awk -v v="$verdict" '!/^#/ { t = $4 } END { printf "| target line at the top (verdict) | %.1f (%s) | | | | |\n", t, v }' "$dat"
  echo
  echo "![orphans at once: time until none is left](charts/scaling-orphans.svg)"
  echo
} >"$RESULTS_DIR/scaling-orphans.md"

printf '| %s orphans at once reaped: linear or better | %s ms (tini %s ms)%s | %s |\n' "$TOP" "$(top_value "$dat" 2)" "$(top_value "$dat" 3)" \
  "$([[ ${#SKIPPED[@]} -eq 0 ]] || echo "; ${SKIPPED[*]} not run: host pid_max $pid_max")" "$verdict" >"$RESULTS_DIR/scaling-orphans.summary"

cat "$RESULTS_DIR/scaling-orphans.md"

#!/usr/bin/env bash
# Scenario 3, orphan reaping: the init's child (orphans) makes 2000 orphans
# and polls /proc/1/task/*/children until PID 1 has no child but itself.
#   zombies: 2000 zombies handed to PID 1 at once → the init's reaping rate.
#   storm:   fork-fork-exit 2000 times as fast as possible → end to end,
#            bounded by how fast the machine forks.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

COUNT=2000
DEADLINE_MS=2000
ZOMBIE_REPS=${BENCH_ORPHAN_ZOMBIE_REPS:-7}
STORM_REPS=${BENCH_ORPHAN_STORM_REPS:-3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# key=value from the one line orphans prints.
field() { tr ' ' '\n' <<<"$1" | awk -F= -v key="$2" '$1 == key { print $2 }'; }

run_mode() {
  local name=$1 mode=$2 line
  init_argv "$name"
  line=$(in_namespace "${INIT_ARGV[@]}" "$BUILD/orphans" "$mode" "$COUNT" "$DEADLINE_MS")
  field "$line" create_ns >>"$work/$name-$mode-create"
  field "$line" left_at_deadline >>"$work/$name-$mode-left"
  local reap_ns
  reap_ns=$(field "$line" reap_ns)
  # -1: orphans were still there at the deadline; kept apart from the times.
  ((reap_ns < 0)) || echo "$reap_ns" >>"$work/$name-$mode-reap"
  ((reap_ns < 0)) || field "$line" lag_ns >>"$work/$name-$mode-lag"
  touch "$work/$name-$mode-reap" "$work/$name-$mode-lag"
}

echo "orphans: $COUNT orphans; zombies x$ZOMBIE_REPS, storm x$STORM_REPS per init" >&2
for ((rep = 0; rep < ZOMBIE_REPS; rep++)); do
  for name in "${INITS[@]}"; do run_mode "$name" zombies; done
done
for ((rep = 0; rep < STORM_REPS; rep++)); do
  for name in "${INITS[@]}"; do run_mode "$name" storm; done
done

max_left() { sort -n "$work/$1-$2-left" | tail -1; }
median_of() { stats "$work/$1" | awk '{ print $1 }'; }
# Orphans per second from a median reap time in ns.
rate() { awk -v n="$COUNT" -v t="$1" 'BEGIN { printf "%.0f", n / (t / 1e9) }'; }
reap_count() { wc -l <"$work/$1-$2-reap"; }

tini_zombie_median=$(median_of tini-zombies-reap)

# boxinit against the issue: the rate from the zombies mode, and nothing left
# at 2 s in either mode.
orphan_verdict() {
  if [[ $(reap_count boxinit zombies) -eq 0 ]]; then
    echo "missed: does not reap"
    return
  fi
  local per_second left problems=()
  per_second=$(rate "$(median_of boxinit-zombies-reap)")
  left=$(($(max_left boxinit zombies) + $(max_left boxinit storm)))
  ((per_second >= 20000)) || problems+=("missed by $((20000 - per_second)) orphans/s")
  ((left == 0)) || problems+=("missed: $left left at 2 s")
  if ((${#problems[@]} == 0)); then echo "met"; else (IFS=';'; echo "${problems[*]}"); fi
}

{
  echo "## 3. Orphans reaped per second"
  echo
  echo "The init's child makes $COUNT orphans and polls /proc/1/task/*/children (every 0.2 ms;"
  echo "one poll costs ~0.6 ms while 2000 children are listed) until PID 1 has no child but it."
  echo "**zombies**: a middle process forks $COUNT children that exit at once, waits until all are zombies,"
  echo "and exits: the kernel hands all $COUNT zombies to PID 1 in one go; time from that hand-over to none"
  echo "left: the init's own reaping rate (median of $ZOMBIE_REPS). **storm**: fork, fork, exit as fast as"
  echo "possible $COUNT times (the brief's method); time from the first fork to none left, which is bounded by"
  echo "how fast this machine forks (median of $STORM_REPS); \"lag\" is last orphan made → none left."
  echo "\"left at 2 s\": worst run, 2 s after the hand-over (zombies) or after the last orphan was made (storm)."
  echo "Target: boxinit ≥ 20,000 orphans/s with 0 left after 2 s."
  echo
  echo "| init | zombies: all reaped ms (p90) | orphans/s | vs tini | left at 2 s | storm: creating ms | storm: none left ms | storm: lag ms | storm: orphans/s | left at 2 s | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for name in "${INITS[@]}"; do
    zombie_left=$(max_left "$name" zombies)
    storm_left=$(max_left "$name" storm)
    storm_create=$(ns_to_ms "$(median_of "$name-storm-create")")
    if [[ $(reap_count "$name" zombies) -eq 0 ]]; then
      zombie_cols="does not reap | 0 | — | $zombie_left"
    else
      read -r zmedian zp90 _ < <(stats "$work/$name-zombies-reap")
      zombie_cols="$(ns_to_ms "$zmedian") ($(ns_to_ms "$zp90")) | $(rate "$zmedian") | $(ratio "$tini_zombie_median" "$zmedian") | $zombie_left"
    fi
    if [[ $(reap_count "$name" storm) -eq 0 ]]; then
      storm_cols="$storm_create | does not reap | — | 0 | $storm_left"
    else
      smedian=$(median_of "$name-storm-reap")
      storm_cols="$storm_create | $(ns_to_ms "$smedian") | $(ns_to_ms "$(median_of "$name-storm-lag")") | $(rate "$smedian") | $storm_left"
    fi
    verdict="—"
    if [[ $name == boxinit ]]; then
      verdict=$(orphan_verdict)
    fi
    echo "| $(init_label "$name") | $zombie_cols | $storm_cols | $verdict |"
  done
  echo
  echo "\"vs tini\" is tini's reap time over this init's: above 1× means faster than tini."
  echo
} >"$RESULTS_DIR/orphans.md"

if [[ $(reap_count boxinit zombies) -eq 0 ]]; then
  box_rate=0
else
  box_rate=$(rate "$(median_of boxinit-zombies-reap)")
fi
printf '| ≥ 20,000 orphans reaped/s, 0 left after 2 s | %s/s (tini %s/s); left at 2 s: %s | %s |\n' \
  "$box_rate" "$(rate "$tini_zombie_median")" "$(($(max_left boxinit zombies) + $(max_left boxinit storm)))" \
  "$(orphan_verdict)" >"$RESULTS_DIR/orphans.summary"

cat "$RESULTS_DIR/orphans.md"

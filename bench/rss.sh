#!/usr/bin/env bash
# Scenario 2, memory of PID 1 while its child sleeps: VmRSS, RssAnon, RssFile,
# VmHWM and thread count from the host's /proc/<init pid>/status, read once
# the child (sigecho, asleep in sigwaitinfo) has said "ready" and a settle
# period has passed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

REPS=${BENCH_RSS_REPS:-3}
# Node keeps allocating for a moment after start (code cache, lazy
# compilation); a steady state is what a long-running container pays.
SETTLE_SECONDS=${BENCH_RSS_SETTLE_SECONDS:-1}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# First pid listed in /proc/$1/task/*/children, waiting up to 10 s.
child_of() {
  local pid=$1 found
  for ((i = 0; i < 1000; i++)); do
    found=$(cat /proc/"$pid"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
    if [[ -n $found ]]; then
      echo "$found"
      return 0
    fi
    sleep 0.01
  done
  echo "rss: no child under pid $pid" >&2
  return 1
}

# Value in kB (or a count) of field $2 in /proc/$1/status.
status_field() {
  awk -v field="$2:" '$1 == field { print $2 }' /proc/"$1"/status
}

measure_once() {
  local name=$1 out="$work/out"
  init_argv "$name"
  : >"$out"
  # A plain background command: $! is unshare itself, not a subshell.
  unshare --pid --fork --mount-proc "${INIT_ARGV[@]}" "$BUILD/sigecho" >"$out" </dev/null &
  local launcher=$!
  for ((i = 0; i < 1000; i++)); do
    grep -q '^ready$' "$out" && break
    sleep 0.01
  done
  grep -q '^ready$' "$out" || { echo "rss: $name: the child never said ready" >&2; return 1; }
  local init child
  init=$(child_of "$launcher")
  child=$(child_of "$init")
  sleep "$SETTLE_SECONDS"
  for field in RssAnon VmRSS RssFile VmHWM Threads; do
    status_field "$init" "$field" >>"$work/$name-$field"
  done
  # Ending the child lets every init exit by itself (the bare Node SEA ignores
  # SIGTERM as PID 1), and unshare then exits normally.
  kill -KILL "$child"
  wait "$launcher" || true
}

echo "rss: $REPS runs per init, ${SETTLE_SECONDS}s settle" >&2
for ((rep = 0; rep < REPS; rep++)); do
  for name in "${INITS[@]}"; do
    measure_once "$name"
  done
done

median_of() { stats "$work/$1-$2" | awk '{ print $1 }'; }
bare_anon=$(median_of node-sea RssAnon)
tini_anon=$(median_of tini RssAnon)
# The issue says 16 MB; /proc counts kB = KiB, so read it as 16 MiB.
limit_kb=16384

{
  echo "## 2. Memory of PID 1 while the child sleeps"
  echo
  echo "/proc/<init>/status on the host, ${SETTLE_SECONDS} s after the child said ready; median of $REPS runs."
  echo "MiB = 1024 KiB. Target: boxinit RssAnon ≤ 16 MB (read as 16 MiB = 16384 kB)."
  echo
  echo "| init | RssAnon MiB | VmRSS MiB | RssFile MiB | VmHWM MiB | threads | RssAnon vs bare Node SEA | vs tini | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  for name in "${INITS[@]}"; do
    anon=$(median_of "$name" RssAnon)
    verdict="—"
    if [[ $name == boxinit ]]; then
      verdict=$(awk -v a="$anon" -v l="$limit_kb" 'BEGIN {
        if (a <= l) print "met"; else printf "missed by %.1f MiB\n", (a - l) / 1024 }')
    fi
    echo "| $(init_label "$name") | $(kb_to_mib "$anon") | $(kb_to_mib "$(median_of "$name" VmRSS)") | $(kb_to_mib "$(median_of "$name" RssFile)") | $(kb_to_mib "$(median_of "$name" VmHWM)") | $(median_of "$name" Threads) | $(ratio "$anon" "$bare_anon") | $(ratio "$anon" "$tini_anon") | $verdict |"
  done
  echo
} >"$RESULTS_DIR/rss.md"

# For the chart (charts.sh): one row per init, its label quoted for gnuplot.
{
  echo "# init rss_anon_mib vm_hwm_mib target_mib"
  for name in "${INITS[@]}"; do
    echo "\"$(init_label "$name")\" $(kb_to_mib "$(median_of "$name" RssAnon)") $(kb_to_mib "$(median_of "$name" VmHWM)") $(kb_to_mib "$limit_kb")"
  done
} >"$RESULTS_DIR/rss.dat"

box_anon=$(median_of boxinit RssAnon)
awk -v a="$box_anon" -v b="$bare_anon" -v l="$limit_kb" 'BEGIN {
  printf "| RssAnon ≤ 16 MB | %.1f MiB (bare Node 24 SEA %.1f MiB) | %s |\n", a / 1024, b / 1024,
    (a <= l) ? "met" : sprintf("missed by %.1f MiB", (a - l) / 1024) }' >"$RESULTS_DIR/rss.summary"

cat "$RESULTS_DIR/rss.md"

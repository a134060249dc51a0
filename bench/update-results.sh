#!/usr/bin/env bash
# Re-runs some scenarios and puts what they print into bench/RESULTS.md in
# place: each one's section (found by its number, inserted in number order
# when new) and its rows of the Targets table (found by their first cell,
# added at the end when new). The rest stays as the last full run wrote it.
# Each re-run section says when and on what it ran, and a line under the
# Targets table names the sections measured apart from the full run.
# usage (root): bash bench/update-results.sh SCENARIO...   e.g. startup sigterm
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($# == 0)); then
  echo "usage: bash bench/update-results.sh SCENARIO... (the names of bench/run.sh's SCENARIOS)" >&2
  exit 2
fi
for scenario in "$@"; do
  [[ -f $BENCH/$scenario.sh ]] || { echo "update-results: no scenario $scenario ($BENCH/$scenario.sh)" >&2; exit 2; }
done
[[ -f $BENCH/RESULTS.md ]] || { echo "update-results: no $BENCH/RESULTS.md: run make bench first" >&2; exit 2; }
ensure_built

# Scenarios that append themselves to RESULTS.md when run alone leave that to this script.
export BENCH_RUN_ALL=1
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for scenario in "$@"; do
  rm -f "$RESULTS_DIR/$scenario.md" "$RESULTS_DIR/$scenario.summary"
  echo "== $scenario" >&2
  bash "$BENCH/$scenario.sh" >"$RESULTS_DIR/$scenario.out"
  # A scenario that prints its section but leaves no NAME.md: its output is the section.
  if [[ ! -f $RESULTS_DIR/$scenario.md ]]; then cp "$RESULTS_DIR/$scenario.out" "$RESULTS_DIR/$scenario.md"; fi
  if [[ ! -f $RESULTS_DIR/$scenario.summary ]]; then : >"$RESULTS_DIR/$scenario.summary"; fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
# Redraws the charts of these scenarios (the others stay as they are).
bash "$BENCH/charts.sh" "$@"
note="Run on its own (\`bash bench/update-results.sh $*\`) $(date -u '+%Y-%m-%d %H:%M UTC'):"
note="$note $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), nproc $(nproc), kernel $(uname -r),"
note="$note boxinit $(boxinit_description), load average before/after $load_before / $load_after,"
note="$note $(($(date +%s) - started)) s."

results="$BENCH/RESULTS.md"
for scenario in "$@"; do
  section="$RESULTS_DIR/$scenario.md"
  # The note goes under the section's heading.
  awk -v note="$note" 'NR == 1 { print; print ""; print note; next } { print }' "$section" >"$section.noted"
  number=$(awk 'NR == 1 { sub(/^## /, ""); sub(/\..*/, ""); print }' "$section")
  [[ $number =~ ^[0-9]+$ ]] || { echo "update-results: $section does not start with '## N.'" >&2; exit 1; }

  # Replace section $number (its heading up to the next "## "), or insert it
  # before the first section with a higher number, or append it.
  awk -v number="$number" -v file="$section.noted" '
    function emit(   line) { while ((getline line < file) > 0) print line; close(file); done = 1 }
    /^## [0-9]+\. / {
      n = $2; sub(/\./, "", n); n += 0
      skipping = 0
      if (!done && n == number) { emit(); skipping = 1; next }
      if (!done && n > number) emit()
    }
    /^## / && !/^## [0-9]+\. / { skipping = 0 }
    !skipping { print }
    END { if (!done) { print ""; emit() } }' "$results" >"$results.tmp"
  mv "$results.tmp" "$results"

  # Replace the scenario's Targets rows where the first of them was, or append them.
  awk -v file="$RESULTS_DIR/$scenario.summary" '
    function key(row,   k) { k = row; sub(/^\| */, "", k); sub(/ *\|.*/, "", k); return k }
    BEGIN { while ((getline line < file) > 0) { rows[++count] = line; wanted[key(line)] = 1 } }
    /^## Targets/ { in_targets = 1; print; next }
    in_targets && /^\| / {
      if (key($0) in wanted) { if (!done) { for (i = 1; i <= count; i++) print rows[i]; done = 1 }; next }
      print; next
    }
    in_targets && !/^\| / && seen_row { if (!done) { for (i = 1; i <= count; i++) print rows[i]; done = 1 }; in_targets = 0 }
    { if (in_targets && /^\|/) seen_row = 1; print }' "$results" >"$results.tmp"
  mv "$results.tmp" "$results"
done

# The line under the Targets table: which sections were measured apart from
# the full run (their second paragraph starts with "Run on its own").
apart=$(awk '
  /^## [0-9]+\. / { n = $2; sub(/\./, "", n); line = 0; next }
  n != "" { line++ }
  n != "" && line == 2 && /^Run on its own/ { list = list (list ? ", " : "") n }
  END { print list }' "$results")
awk -v apart="$apart" '
  /^Sections measured apart from the full run/ { next }
  /^## Targets/ { in_targets = 1 }
  in_targets && /^\| / { seen_row = 1 }
  in_targets && seen_row && !/^\|/ {
    if (apart != "") print "\nSections measured apart from the full run (each says when, on what, and the load): " apart "."
    in_targets = 0
  }
  { print }' "$results" | cat -s >"$results.tmp"
mv "$results.tmp" "$results"
echo "update-results: $results: $* updated" >&2

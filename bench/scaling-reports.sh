#!/usr/bin/env bash
# Scenario 16, how retention's cost grows with the failure reports in
# <state_dir>/logs (100 to 10,000): `boxinit job bench -- /bin/false` as PID 1
# of a fresh PID namespace, under strace (only flock and linkat traced,
# through a seccomp filter). Its report is linked into logs/ (linkat); then
# logs/ is tidied (the temp-file sweep and retention: list, lstat each report,
# sort by the time in the name, remove); then the status lock is taken for the
# run's record (flock). Tidying = linkat → that flock. Steady state: keep = N,
# so each run removes the oldest report; and a one-off clean-up: keep 100, so
# N - 100 are removed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=scaling-lib.sh
source "$BENCH/scaling-lib.sh"
ensure_built
command -v strace >/dev/null || { echo "scaling-reports: missing strace (apt-get install -y strace)" >&2; exit 2; }

read -r -a SIZES <<<"$(scale_sizes "100 300 1000 3000 10000" BENCH_SCALE_REPORTS)"
RUNS=${BENCH_SCALE_REPORT_RUNS:-10}
CLEANUP_RUNS=${BENCH_SCALE_CLEANUP_RUNS:-5}
CLEANUP_KEEP=100
TOP=${SIZES[-1]}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Report names of job "old", one a minute back from now: young enough for
# job_logs.max_age (30 days) at 10,000; oldest first.
report_names() {
  "$NODE24" -e '
    const count = Number(process.argv[1]);
    const now = Math.floor(Date.now() / 60000) * 60000;
    for (let i = count; i >= 1; i--) {
      console.log(`${new Date(now - i * 60000).toISOString().replace(/\.\d{3}Z$/, "Z")}-cron-failure-old-exit-1-bench-host`);
    }' "$1"
}

# Fills $1 (a logs/ directory) with the reports named in $2, each a small file.
fill_logs() {
  mkdir -p "$1"
  (cd "$1" && xargs -a "$2" -d '\n' sh -c 'for f; do echo "# boxinit job failure report" >"$f"; done' sh)
}

# One traced failing run with logs/ as it is; appends linkat → flock (ns) to $3.
traced_run() {
  local dir=$1 keep=$2 out=$3
  printf 'job_logs:\n  keep: %s\n' "$keep" >"$dir/boxinit.yaml"
  strace -f --seccomp-bpf -qq -e trace=flock,linkat -ttt -T -o "$dir/strace" \
    unshare --pid --fork --mount-proc "$BOXINIT" job bench -q --config "$dir/boxinit.yaml" --state-dir "$dir/state" -- /bin/false \
    </dev/null 2>"$dir/boxinit.log" || true
  local took
  took=$(awk '
    /linkat\(.*= 0 </ { match($0, /<[0-9.]+>$/); linked = $2 + substr($0, RSTART + 1, RLENGTH - 2); next }
    / flock\(.*= 0 </ && linked { printf "%.0f\n", ($2 - linked) * 1e9; exit }' "$dir/strace")
  [[ -n $took ]] || { echo "scaling-reports: no report linked, or no record written after it:" >&2; cat "$dir/strace" "$dir/boxinit.log" >&2; exit 1; }
  echo "$took" >>"$out"
}

measure() {
  local size=$1 dir="$work/$1"
  mkdir -p "$dir/state"
  report_names "$size" >"$dir/names"
  fill_logs "$dir/state/logs" "$dir/names"
  local oldest
  oldest=$(head -1 "$dir/names")
  # Steady state: N reports, keep N: the new one in, the oldest out.
  for ((run = 0; run <= RUNS; run++)); do
    rm -f "$dir/state/logs/"*-cron-failure-bench-exit-1-*
    echo "# boxinit job failure report" >"$dir/state/logs/$oldest"
    traced_run "$dir" "$size" "$dir/steady-all"
  done
  local left
  left=$(find "$dir/state/logs" -maxdepth 1 -name '*-cron-failure-*' | wc -l)
  ((left == size)) || { echo "scaling-reports: keep $size left $left reports" >&2; exit 1; }
  # The first run warms the page cache and is dropped.
  tail -n +2 "$dir/steady-all" >"$work/steady-$size"
  # One-off clean-up: keep 100 of N (+1 new).
  for ((run = 0; run < CLEANUP_RUNS; run++)); do
    rm -rf "$dir/state/logs"
    fill_logs "$dir/state/logs" "$dir/names"
    traced_run "$dir" "$CLEANUP_KEEP" "$work/cleanup-$size"
  done
  left=$(find "$dir/state/logs" -maxdepth 1 -name '*-cron-failure-*' | wc -l)
  ((left == (size + 1 < CLEANUP_KEEP ? size + 1 : CLEANUP_KEEP))) || { echo "scaling-reports: keep $CLEANUP_KEEP of $size left $left" >&2; exit 1; }
  rm -rf "$dir"
}

echo "scaling-reports: sizes ${SIZES[*]}; $RUNS steady-state and $CLEANUP_RUNS clean-up runs each" >&2
for size in "${SIZES[@]}"; do measure "$size"; done

dat="$RESULTS_DIR/scaling-reports.dat"
{
  echo "# reports steady_ms cleanup_ms removed_in_cleanup"
  for size in "${SIZES[@]}"; do
    awk -v n="$size" -v s="$(median_of "$work/steady-$size")" -v c="$(median_of "$work/cleanup-$size")" -v k="$CLEANUP_KEEP" \
      'BEGIN { printf "%d %.3f %.3f %d\n", n, s / 1e6, c / 1e6, (n + 1 > k ? n + 1 - k : 0) }'
  done
} >"$dat"
add_target "$dat" 2 linear steady_target_ms
add_target "$dat" 3 linear cleanup_target_ms
steady_verdict=$(curve_verdict "$dat" 2 5 1)
cleanup_verdict=$(curve_verdict "$dat" 3 6 1)

{
  echo "## 16. Scaling: failure reports and retention"
  echo
  echo "\`boxinit job bench -- /bin/false\` as PID 1 of its own PID namespace with N reports of another job in logs/"
  echo "(one a minute back from now), under \`strace -f --seccomp-bpf -e trace=flock,linkat\` (only those calls stop"
  echo "the process). Tidying = the new report linked into place (linkat) → the status lock taken for the run's record"
  echo "(flock): the sweep of killed writers' temp files and retention (list logs/, lstat each report, sort by the"
  echo "time in its name, unlink), and the report's temp name removed. Steady state: \`job_logs.keep: N\`, so each run"
  echo "removes the oldest report (median of $RUNS runs); clean-up: \`keep: $CLEANUP_KEEP\`, N + 1 − $CLEANUP_KEEP removed at once"
  echo "(median of $CLEANUP_RUNS). Target: linear or better: at $TOP reports at most 1.25× the straight line through"
  echo "the first and the middle size (plus 1 ms)."
  echo
  echo "| reports in logs/ | steady state: tidying ms | clean-up to $CLEANUP_KEEP: tidying ms | removed in the clean-up |"
  echo "|---:|---:|---:|---:|"
  awk '!/^#/ { printf "| %d | %.2f | %.2f | %d |\n", $1, $2, $3, $4 }' "$dat"
  awk -v sv="$steady_verdict" -v cv="$cleanup_verdict" '!/^#/ { a = $5; b = $6 }
    END { printf "| target line at the top (verdict) | %.2f (%s) | %.2f (%s) | |\n", a, sv, b, cv }' "$dat"
  echo
  echo "![failure reports: retention time](charts/scaling-reports.svg)"
  echo
} >"$RESULTS_DIR/scaling-reports.md"

printf '| retention with %s failure reports: linear or better | steady state %s ms, clean-up of %s %s ms | %s |\n' "$TOP" \
  "$(top_value "$dat" 2)" "$(top_value "$dat" 4)" "$(top_value "$dat" 3)" \
  "$([[ $steady_verdict == met && $cleanup_verdict == met ]] && echo met || echo "steady: $steady_verdict; clean-up: $cleanup_verdict")" \
  >"$RESULTS_DIR/scaling-reports.summary"

cat "$RESULTS_DIR/scaling-reports.md"

#!/usr/bin/env bash
# Scenario 8, the batch-job harness: wall time of a whole run as PID 1 of a
# new PID namespace (hyperfine), `boxinit job NAME -- /bin/true` (backoff check,
# lock, status.json record) and `-- /bin/false` (plus the failure report,
# retention), next to `boxinit -- /bin/true`, tini and dumb-init running the
# same command. What a cron wrapper costs per run, on top of the init.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

RUNS=${BENCH_JOB_RUNS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ok" "$work/fail"

NAMES=(tini dumb-init boxinit job-ok job-fail)
COMMANDS=(
  "unshare --pid --fork --mount-proc $(command -v tini) -- /bin/true"
  "unshare --pid --fork --mount-proc $(command -v dumb-init) -- /bin/true"
  "unshare --pid --fork --mount-proc $BOXINIT -q -- /bin/true"
  "unshare --pid --fork --mount-proc $BOXINIT job bench -q --state-dir $work/ok -- /bin/true"
  "unshare --pid --fork --mount-proc $BOXINIT job bench -q --state-dir $work/fail -- /bin/false"
)

echo "job: wall time of each, hyperfine, $RUNS runs" >&2
# The failing runs' reports are removed before each run: a run's report would
# otherwise make the next one look for a free name (one per second).
if ! hyperfine -N --warmup 3 --runs "$RUNS" --style none -i --export-json "$work/wall.json" \
  --prepare "rm -rf $work/fail/logs" "${COMMANDS[@]}" </dev/null >"$work/hyperfine.log" 2>&1; then
  cat "$work/hyperfine.log" >&2
  exit 1
fi
for ((i = 0; i < ${#NAMES[@]}; i++)); do
  jq -r ".results[$i].times[]" "$work/wall.json" | awk '{ printf "%.0f\n", $1 * 1e9 }' >"$work/wall-${NAMES[i]}"
done
[[ -n $(ls "$work/fail/logs" 2>/dev/null) ]] || { echo "job: the failing run left no report" >&2; exit 1; }

read -r tini_median _ _ < <(stats "$work/wall-tini")
read -r box_median _ _ < <(stats "$work/wall-boxinit")
read -r ok_median _ _ < <(stats "$work/wall-job-ok")
read -r fail_median _ _ < <(stats "$work/wall-job-fail")
LIMIT_NS=30000000

label() {
  case "$1" in
    boxinit) echo "boxinit -- /bin/true" ;;
    job-ok) echo "boxinit job NAME -- /bin/true" ;;
    job-fail) echo "boxinit job NAME -- /bin/false (report written)" ;;
    *) echo "$(init_label "$1") -- /bin/true" ;;
  esac
}

{
  echo "## 8. Batch-job harness"
  echo
  echo "Wall time of \`unshare --pid --fork --mount-proc INIT ...\` (hyperfine, $RUNS runs each): a job run"
  echo "checks backoff, takes the job's lock, records start and end in status.json, and for a failure"
  echo "writes the report and applies retention. Target: a job run costs ≤ 30 ms more than \`boxinit -- CMD\`."
  echo
  echo "| run | median ms | p90 ms | vs boxinit -- /bin/true | vs tini |"
  echo "|---|---:|---:|---:|---:|"
  for name in "${NAMES[@]}"; do
    read -r median p90 _ < <(stats "$work/wall-$name")
    echo "| $(label "$name") | $(ns_to_ms "$median") | $(ns_to_ms "$p90") | $(ratio "$median" "$box_median") | $(ratio "$median" "$tini_median") |"
  done
  echo
} >"$RESULTS_DIR/job.md"

awk -v ok="$ok_median" -v fail="$fail_median" -v b="$box_median" -v l="$LIMIT_NS" 'BEGIN {
  worst = (fail > ok) ? fail : ok
  printf "| job run ≤ boxinit -- CMD + 30 ms | +%.2f ms (success), +%.2f ms (failure with report) | %s |\n",
    (ok - b) / 1e6, (fail - b) / 1e6, (worst - b <= l) ? "met" : sprintf("missed by %.2f ms", (worst - b - l) / 1e6) }' >"$RESULTS_DIR/job.summary"

cat "$RESULTS_DIR/job.md"

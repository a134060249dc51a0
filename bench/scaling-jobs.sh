#!/usr/bin/env bash
# Scenario 15, how a job run's cost grows with the records of OTHER jobs in
# status.json (10 to 10,000, written as src/jobs/job-status.ts writes them):
# `boxinit job bench -- /bin/true` as PID 1 of a fresh PID namespace, its
# wall and CPU time (hyperfine, status.json restored before each run), the
# time of its own status.json writes (strace: the status lock taken →
# status.json renamed into place; a run writes twice, at its start and end),
# and the time of PID 1's status write in a box of one service whose
# status.json holds those records (the heartbeat's writes, as in scenario 14).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=scaling-lib.sh
source "$BENCH/scaling-lib.sh"
ensure_built
command -v strace >/dev/null || { echo "scaling-jobs: missing strace (apt-get install -y strace)" >&2; exit 2; }

read -r -a SIZES <<<"$(scale_sizes "10 100 1000 3000 10000" BENCH_SCALE_JOBS)"
RUNS=${BENCH_SCALE_JOB_RUNS:-20}
TRACED_RUNS=5
HEARTBEAT_MS=50
TRACE_SETTLE_MS=1300
TOP=${SIZES[-1]}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A status.json of $1 records of other jobs (other-1 ...), each as a finished
# run leaves it (a failure with its report: the longest kind), all recent, so
# that retention (job_logs.max_age) keeps them; at 10,000 records the cap
# (MAX_JOB_RECORDS) removes the oldest one per run, as it would in use.
prefill() {
  "$NODE24" -e '
    const count = Number(process.argv[1]);
    const now = Date.now();
    const jobs = {};
    for (let i = 1; i <= count; i++) {
      const end = new Date(now - i * 1000);
      jobs[`other-${i}`] = {
        running: false, runner: null, lastStart: new Date(end.getTime() - 1234).toISOString(), lastEnd: end.toISOString(),
        lastExit: 1, lastSignal: null, lastResult: "failed", lastDurationMs: 1234,
        logFile: `logs/${end.toISOString().replace(/\.\d{3}Z$/, "Z")}-cron-failure-other-${i}-exit-1-bench-host`,
        runs: 42, failures: 3, lastSkip: null,
      };
    }
    process.stdout.write(`${JSON.stringify({ schemaVersion: 1, jobs }, null, 2)}\n`);
  ' "$1"
}

# Job runs: wall and CPU (hyperfine), then the job's own writes (strace).
measure_job() {
  local size=$1 dir="$work/job-$size"
  mkdir -p "$dir/state"
  prefill "$size" >"$dir/status.json.prefilled"
  if ! hyperfine -N --warmup 2 --runs "$RUNS" --style none --export-json "$dir/wall.json" \
    --prepare "cp $dir/status.json.prefilled $dir/state/status.json" \
    "unshare --pid --fork --mount-proc $BOXINIT job bench -q --state-dir $dir/state -- /bin/true" \
    </dev/null >"$dir/hyperfine.log" 2>&1; then
    cat "$dir/hyperfine.log" >&2
    exit 1
  fi
  jq -r '.results[0].times[]' "$dir/wall.json" | awk '{ printf "%.0f\n", $1 * 1e9 }' >"$work/wall-$size"
  jq -r '.results[0] | (.user + .system) * 1e9' "$dir/wall.json" | awk '{ printf "%.0f\n", $1 }' >"$work/cpu-$size"
  : >"$work/jobwrite-$size"
  for ((run = 0; run < TRACED_RUNS; run++)); do
    cp "$dir/status.json.prefilled" "$dir/state/status.json"
    strace -f --seccomp-bpf -qq -e trace=flock,renameat,renameat2 -ttt -T -o "$dir/strace" \
      unshare --pid --fork --mount-proc "$BOXINIT" job bench -q --state-dir "$dir/state" -- /bin/true </dev/null
    traced_writes "$dir/strace" status.json >>"$work/jobwrite-$size"
  done
  local records
  records=$(jq '.jobs | length' "$dir/state/status.json")
  ((records >= size)) || { echo "scaling-jobs: $size records before the run, $records after" >&2; exit 1; }
}

# PID 1's heartbeat writes in a box of one service whose status.json holds the records.
measure_box() {
  local size=$1 dir="$work/box-$size"
  mkdir -p "$dir/state"
  prefill "$size" >"$dir/state/status.json"
  cat >"$dir/boxinit.yaml" <<YAML
state_dir: $dir/state
init_dir: $dir/init.d
finish_dir: $dir/finish.d
heartbeat: ${HEARTBEAT_MS}ms
services:
  app:
    command: [$BUILD/boxstamp, $dir/stamps, service, serve]
YAML
  local result
  result=$("$BUILD/boxdrive" "$dir/state" "$dir/stamps" sigterm "$TRACE_SETTLE_MS" 0 30000 -- \
    strace -f --seccomp-bpf -qq -e trace=flock,renameat,renameat2 -ttt -T -o "$dir/strace" \
    unshare --pid --fork --mount-proc --kill-child "$BOXINIT" -q --config "$dir/boxinit.yaml" 2>"$dir/boxinit.log")
  [[ $result == "ok 0" ]] || { echo "scaling-jobs: box with $size job records: \"$result\"" >&2; cat "$dir/boxinit.log" >&2; exit 1; }
  # The boot's three writes and the stop's three left out: the heartbeat's remain.
  traced_writes "$dir/strace" status | awk '{ v[NR] = $1 } END { for (i = 4; i <= NR - 3; i++) print v[i] }' >"$work/boxwrite-$size"
  [[ -s $work/boxwrite-$size ]] || { echo "scaling-jobs: no status write traced with $size job records" >&2; exit 1; }
}

# What any writer of one status.json must pay at that size (SPEC section 4:
# every record in the one file, replaced whole by rename): the floor of a
# record write, measured in one warm Node process (the executable's Node), the
# median of FLOOR_RUNS: read the file, write it to a temporary file beside it,
# rename it over (I/O only); and the same with JSON.parse and JSON.stringify
# of the document between (the least a writer that changes one record does).
FLOOR_RUNS=15
measure_floor() {
  local size=$1 file="$work/job-$size/floor.json"
  cp "$work/job-$size/status.json.prefilled" "$file"
  "$NODE24" -e '
    const fs = require("node:fs");
    const [file, runs] = [process.argv[1], Number(process.argv[2])];
    const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const replace = (text) => { fs.writeFileSync(`${file}.tmp`, text); fs.renameSync(`${file}.tmp`, file); };
    const io = [], json = [];
    for (let i = 0; i < runs; i++) {
      let start = process.hrtime.bigint();
      replace(fs.readFileSync(file, "utf8"));
      io.push(Number(process.hrtime.bigint() - start) / 1e6);
      start = process.hrtime.bigint();
      replace(`${JSON.stringify(JSON.parse(fs.readFileSync(file, "utf8")), null, 2)}\n`);
      json.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    process.stdout.write(`${median(io).toFixed(3)} ${median(json).toFixed(3)}\n`);
  ' "$file" "$FLOOR_RUNS" >"$work/floor-$size"
}

echo "scaling-jobs: sizes ${SIZES[*]}; hyperfine $RUNS runs, $TRACED_RUNS traced runs, one traced box each" >&2
for size in "${SIZES[@]}"; do
  measure_job "$size"
  measure_box "$size"
  measure_floor "$size"
done

dat="$RESULTS_DIR/scaling-jobs.dat"
{
  echo "# records wall_ms cpu_ms job_write_ms pid1_write_ms status_json_kib io_floor_ms json_floor_ms"
  for size in "${SIZES[@]}"; do
    read -r io_floor json_floor <"$work/floor-$size"
    awk -v n="$size" -v w="$(median_of "$work/wall-$size")" -v c="$(cat "$work/cpu-$size")" \
      -v j="$(median_of "$work/jobwrite-$size")" -v p="$(median_of "$work/boxwrite-$size")" \
      -v k="$(stat -c %s "$work/job-$size/status.json.prefilled")" -v f="$io_floor" -v g="$json_floor" \
      'BEGIN { printf "%d %.3f %.3f %.3f %.3f %.0f %.3f %.3f\n", n, w / 1e6, c / 1e6, j / 1e6, p / 1e6, k / 1024, f, g }'
  done
} >"$dat"
# The target: flat (the first size's cost at every size).
add_target "$dat" 2 flat wall_target_ms
add_target "$dat" 4 flat job_write_target_ms
add_target "$dat" 5 flat pid1_write_target_ms
wall_verdict=$(curve_verdict "$dat" 2 9 2)
job_write_verdict=$(curve_verdict "$dat" 4 10 0.5)
pid1_write_verdict=$(curve_verdict "$dat" 5 11 0.5)

{
  echo "## 15. Scaling: job records in status.json"
  echo
  echo "\`boxinit job bench -- /bin/true\` as PID 1 of its own PID namespace, with N records of other jobs in"
  echo "status.json (as a finished, failed run leaves them: about $(awk -v k="$(top_value "$dat" 6)" -v n="$TOP" 'BEGIN { printf "%.0f", k * 1024 / n }') bytes each; restored before each run)."
  echo "Wall time and CPU time (user + system, the mean) by hyperfine, $RUNS runs. The job's status.json writes (two a"
  echo "run: its start and its end), traced in $TRACED_RUNS more runs with \`strace -f --seccomp-bpf -e trace=flock,renameat,renameat2\`:"
  echo "status lock taken → status.json renamed into place (read, parse, change, serialise, replace). PID 1's write:"
  echo "a box of one service whose status.json holds the same records, heartbeat ${HEARTBEAT_MS} ms, lock → \`status\` renamed"
  echo "(scenario 14's method). At 10,000 records the cap (MAX_JOB_RECORDS) removes the oldest one at each run."
  echo "Target: flat: none of these grows with the number of OTHER jobs' records (at the top at most 1.25× the"
  echo "cost at $(awk '!/^#/ { print $1; exit }' "$dat") records, plus 2 ms of wall time or 0.5 ms of a write: the noise floor)."
  echo
  echo "| other jobs' records | status.json KiB | job run wall ms | job run CPU ms | one job record write ms | one PID 1 status write ms | floor: read, write, rename ms | floor with parse and serialise ms |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk '!/^#/ { printf "| %d | %d | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f |\n", $1, $6, $2, $3, $4, $5, $7, $8 }' "$dat"
  awk -v wv="$wall_verdict" -v jv="$job_write_verdict" -v pv="$pid1_write_verdict" '
    !/^#/ { t1 = $9; t2 = $10; t3 = $11 }
    END { printf "| target (verdict) | | %.1f (%s) | | %.2f (%s) | %.2f (%s) | | |\n", t1, wv, t2, jv, t3, pv }' "$dat"
  echo
  echo "The floors are what any writer pays to replace a status.json of that size, as SPEC section 4 has"
  echo "every record in that one file, replaced whole (temporary file, then rename): read it, write it beside"
  echo "itself, rename it over; and the same with JSON.parse and JSON.stringify between, the least a writer"
  echo "that changes one record does (one warm Node process, the executable's Node, median of $FLOOR_RUNS). They grow"
  echo "with the file: a flat record write needs the records out of status.json (a change of SPEC section 4)."
  echo
  echo "![job records: run and write times](charts/scaling-jobs.svg)"
  echo
} >"$RESULTS_DIR/scaling-jobs.md"

{
  printf '| job run with %s other job records: flat | wall %s ms, CPU %s ms (at %s records: wall %s ms) | %s |\n' "$TOP" \
    "$(top_value "$dat" 2)" "$(top_value "$dat" 3)" "$(awk '!/^#/ { print $1; exit }' "$dat")" "$(awk '!/^#/ { printf "%.0f", $2; exit }' "$dat")" "$wall_verdict"
  printf '| status.json writes with %s other job records: flat | job record %s ms, PID 1 %s ms (targets %s / %s ms; the floor of replacing that status.json: %s ms, %s ms with parse and serialise) | %s |\n' "$TOP" \
    "$(top_value "$dat" 4)" "$(top_value "$dat" 5)" "$(top_value "$dat" 10)" "$(top_value "$dat" 11)" "$(top_value "$dat" 7)" "$(top_value "$dat" 8)" \
    "$([[ $job_write_verdict == met && $pid1_write_verdict == met ]] && echo met || echo "job record: $job_write_verdict; PID 1: $pid1_write_verdict")"
} >"$RESULTS_DIR/scaling-jobs.summary"

cat "$RESULTS_DIR/scaling-jobs.md"

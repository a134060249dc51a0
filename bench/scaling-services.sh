#!/usr/bin/env bash
# Scenario 14, how cost grows with the number of services: a Mini-VM box of N
# services (boxstamp serve, up at its first instruction; no warm-up) as PID 1
# of a fresh PID namespace, N from 1 to 200. stamp-exec stamps the exec of
# boxinit, each service its first instruction, boxdrive `running` in status;
# 300 ms later boxdrive reads PID 1's RssAnon and VmHWM and sends it SIGTERM
# (as `docker stop`), and stamps its exit. The cost of one status write:
# one more run per N under strace (only flock and renameat traced, through a
# seccomp filter), heartbeat 50 ms: the status lock taken → `status` renamed
# into place, median of the heartbeat's writes. Backoff reaction with 200
# services: `true` written → the stop command's first instruction, and → exit.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=scaling-lib.sh
source "$BENCH/scaling-lib.sh"
ensure_built
command -v strace >/dev/null || { echo "scaling-services: missing strace (apt-get install -y strace)" >&2; exit 2; }

read -r -a SIZES <<<"$(scale_sizes "1 10 50 100 200" BENCH_SCALE_SERVICES)"
RUNS=${BENCH_SCALE_RUNS:-5}
BACKOFF_RUNS=${BENCH_SCALE_BACKOFF_RUNS:-10}
TOP=${SIZES[-1]}
SETTLE_MS=300
HEARTBEAT_MS=50
# Heartbeats traced per size: about (settle / heartbeat) of them.
TRACE_SETTLE_MS=1300
TIMEOUT_MS=30000

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The config of a box of $2 services in run directory $1. The last one ("app",
# stamp label "service") is started last and so stopped first (services stop
# one after another, in reverse start order); it has a stop command when $3
# is "stop".
write_config() {
  local dir=$1 count=$2 stop=$3 i
  {
    echo "state_dir: $dir/state"
    echo "init_dir: $dir/init.d"
    echo "finish_dir: $dir/finish.d"
    echo "grace: 10s"
    echo "heartbeat: ${HEARTBEAT_MS}ms"
    echo "services:"
    for ((i = 1; i < count; i++)); do
      echo "  svc-$i:"
      echo "    command: [$BUILD/boxstamp, $dir/stamps, svc-$i, serve]"
    done
    echo "  app:"
    echo "    command: [$BUILD/boxstamp, $dir/stamps, service, serve]"
    if [[ $stop == stop ]]; then echo "    stop: [$BUILD/boxstamp, $dir/stamps, stop, stop]"; fi
  } >"$dir/boxinit.yaml"
}

# One box run: $1 services, $2 how it ends (sigterm | inplace), $3 "trace" to
# run boxinit under strace. Leaves the stamps in $work/run/stamps.
run_box() {
  local count=$1 end=$2 trace=${3:-} dir="$work/run" settle=$SETTLE_MS
  rm -rf "$dir"
  mkdir -p "$dir/state"
  printf 'false\n' >"$dir/state/backoff"
  write_config "$dir" "$count" "$([[ $end == inplace ]] && echo stop || echo none)"
  local launch=(unshare --pid --fork --mount-proc --kill-child "$BUILD/stamp-exec" "$dir/stamps" "$BOXINIT" -q --config "$dir/boxinit.yaml")
  if [[ $trace == trace ]]; then
    settle=$TRACE_SETTLE_MS
    launch=(strace -f --seccomp-bpf -qq -e trace=flock,renameat,renameat2 -ttt -T -o "$dir/strace" "${launch[@]}")
  fi
  local result
  result=$("$BUILD/boxdrive" "$dir/state" "$dir/stamps" "$end" "$settle" 0 "$TIMEOUT_MS" -- "${launch[@]}" 2>"$dir/boxinit.log")
  if [[ $result != "ok 0" ]]; then
    echo "scaling-services: $count services, $end: boxinit run ended with \"$result\" (expected \"ok 0\"); its log:" >&2
    cat "$dir/boxinit.log" >&2
    exit 1
  fi
}

# The segments of the last run, in ns (kB for memory), appended to
# $work/SEGMENT-N: running, first and last service start, stop (end → exit),
# rss-anon, vm-hwm; and for a backoff run the reaction (write → stop command).
record_run() {
  local count=$1 stamps="$work/run/stamps" label ns started first last
  local -A at
  while read -r label ns _; do at[$label]=$ns; done <"$stamps"
  # Sorted as text: the stamps are boot-relative ns of the same length.
  read -r started first last < <(awk '$1 == "service" || $1 ~ /^svc-/ { print $2 }' "$stamps" | sort |
    awk 'NR == 1 { first = $1 } { last = $1 } END { print NR, first, last }')
  if ((started != count)) || [[ -z ${at[running]:-} || -z ${at[exit]:-} || -z ${at[exec]:-} ]]; then
    echo "scaling-services: $count services: $started started; stamps:" >&2
    cat "$stamps" >&2
    exit 1
  fi
  echo $((at[running] - at[exec])) >>"$work/running-$count"
  echo $((first - at[exec])) >>"$work/first-$count"
  echo $((last - at[exec])) >>"$work/last-$count"
  echo $((at[exit] - at[write])) >>"$work/stop-$count"
  echo "${at[rss-anon]}" >>"$work/anon-$count"
  echo "${at[vm-hwm]}" >>"$work/hwm-$count"
  if [[ -n ${at[stop]:-} ]]; then echo $((at[stop] - at[write])) >>"$work/reaction-$count"; fi
}

# PID 1's status writes in a traced run, in ns: the first three (boot) and
# the last three (stopping, stopped) are left out: the heartbeat's remain.
heartbeat_writes() { traced_writes "$1" status | awk '{ v[NR] = $1 } END { for (i = 4; i <= NR - 3; i++) print v[i] }'; }

echo "scaling-services: sizes ${SIZES[*]}, $RUNS runs each (+1 warm-up), interleaved; one traced run per size" >&2
for ((run = 0; run <= RUNS; run++)); do
  for size in "${SIZES[@]}"; do
    run_box "$size" sigterm
    # The first round warms the page cache and is dropped.
    ((run == 0)) || record_run "$size"
  done
done
for size in "${SIZES[@]}"; do
  run_box "$size" sigterm trace
  heartbeat_writes "$work/run/strace" >"$work/write-$size"
  [[ -s $work/write-$size ]] || { echo "scaling-services: no status write traced with $size services" >&2; exit 1; }
done
echo "scaling-services: backoff with 1 and $TOP services, $BACKOFF_RUNS runs each" >&2
for ((run = 0; run < BACKOFF_RUNS; run++)); do
  for size in 1 "$TOP"; do
    run_box "$size" inplace
    mkdir -p "$work/backoff-$size"
    stamps="$work/run/stamps"
    write_ns=$(awk '$1 == "write" { print $2 }' "$stamps")
    stop_ns=$(awk '$1 == "stop" { print $2 }' "$stamps")
    exit_ns=$(awk '$1 == "exit" { print $2 }' "$stamps")
    [[ -n $stop_ns ]] || { echo "scaling-services: backoff with $size services: no stop command stamp" >&2; cat "$stamps" >&2; exit 1; }
    echo $((stop_ns - write_ns)) >>"$work/backoff-$size/reaction"
    echo $((exit_ns - write_ns)) >>"$work/backoff-$size/exit"
  done
done

dat="$RESULTS_DIR/scaling-services.dat"
{
  echo "# services running_ms first_ms last_ms stop_ms rss_anon_mib vm_hwm_mib status_write_ms"
  for size in "${SIZES[@]}"; do
    awk -v n="$size" -v r="$(median_of "$work/running-$size")" -v f="$(median_of "$work/first-$size")" \
      -v l="$(median_of "$work/last-$size")" -v s="$(median_of "$work/stop-$size")" -v a="$(median_of "$work/anon-$size")" \
      -v h="$(median_of "$work/hwm-$size")" -v w="$(median_of "$work/write-$size")" \
      'BEGIN { printf "%d %.3f %.3f %.3f %.3f %.2f %.2f %.3f\n", n, r / 1e6, f / 1e6, l / 1e6, s / 1e6, a / 1024, h / 1024, w / 1e6 }'
  done
} >"$dat"
# Targets as lines: columns 9.. (running, stop, RssAnon, status write).
add_target "$dat" 2 linear running_target_ms
add_target "$dat" 5 linear stop_target_ms
add_target "$dat" 6 linear rss_anon_target_mib
add_target "$dat" 8 linear status_write_target_ms
running_verdict=$(curve_verdict "$dat" 2 9 5)
stop_verdict=$(curve_verdict "$dat" 5 10 5)
anon_verdict=$(curve_verdict "$dat" 6 11 1)
write_verdict=$(curve_verdict "$dat" 8 12 0.5)
{
  echo "# services reaction_ms exit_ms"
  for size in 1 "$TOP"; do
    awk -v n="$size" -v r="$(median_of "$work/backoff-$size/reaction")" -v e="$(median_of "$work/backoff-$size/exit")" \
      'BEGIN { printf "%d %.3f %.3f\n", n, r / 1e6, e / 1e6 }'
  done
} >"$RESULTS_DIR/scaling-services-backoff.dat"
read -r reaction_top _ _ < <(stats "$work/backoff-$TOP/reaction")
backoff_verdict=$(awk -v m="$reaction_top" 'BEGIN { if (m <= 20e6) print "met"; else printf "missed by %.2f ms\n", (m - 20e6) / 1e6 }')

{
  echo "## 14. Scaling: services"
  echo
  echo "A Mini-VM box of N services ([boxstamp](boxstamp.c) \`serve\`: up at its first instruction, no warm-up)"
  echo "as PID 1 of its own PID namespace. [stamp-exec](stamp-exec.c) stamps the exec of boxinit,"
  echo "each service its first instruction, [boxdrive](boxdrive.c) the \`running\` in \`status\`; ${SETTLE_MS} ms later it reads"
  echo "PID 1's RssAnon and VmHWM (the peak so far) from the host's /proc and sends it SIGTERM, as \`docker stop\` does;"
  echo "a pidfd stamps PID 1's exit. Median of $RUNS runs per size, sizes interleaved."
  echo "One status write: one more run per size under \`strace -f --seccomp-bpf -e trace=flock,renameat,renameat2\`"
  echo "(only those calls stop the process), heartbeat ${HEARTBEAT_MS} ms: from the status lock taken (flock) to \`status\`"
  echo "renamed into place, which brackets the read of status.json, the serialisation and both atomic replacements;"
  echo "median of the heartbeat's writes (about $((TRACE_SETTLE_MS / HEARTBEAT_MS)) a size; strace adds a few µs per traced call)."
  echo "Target: each curve linear or better: at $TOP services at most 1.25× the straight line through the first"
  echo "and the middle size (plus 5 ms for times, 1 MiB, 0.5 ms for a write: the noise floor)."
  echo
  echo "| services | exec → \`running\` ms | exec → first service ms | exec → last service ms | SIGTERM → PID 1 exit ms | RssAnon MiB | VmHWM MiB | one status write ms |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk '!/^#/ { printf "| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$dat"
  awk -v rv="$running_verdict" -v sv="$stop_verdict" -v av="$anon_verdict" -v wv="$write_verdict" '
    !/^#/ { t1 = $9; t2 = $10; t3 = $11; t4 = $12 }
    END { printf "| target line at the top (verdict) | %.1f (%s) | | | %.1f (%s) | %.1f (%s) | | %.2f (%s) |\n", t1, rv, t2, sv, t3, av, t4, wv }' "$dat"
  echo
  echo "Backoff with $TOP services running: \`true\` written in place → the first instruction of the stop command of the"
  echo "service stopped first (the last one started; [boxstamp](boxstamp.c) \`stop\`), and → PID 1's exit (the rest get"
  echo "SIGTERM, one service after another in reverse start order); next to one service."
  echo "Median (p90) of $BACKOFF_RUNS runs each, interleaved. Target: as scenario 6, ≤ 20 ms to the stop command."
  echo
  echo "| services | write → stop command ms | write → PID 1 exit ms | target |"
  echo "|---:|---:|---:|---|"
  for size in 1 "$TOP"; do
    read -r rm rp _ < <(stats "$work/backoff-$size/reaction")
    read -r em ep _ < <(stats "$work/backoff-$size/exit")
    verdict="—"
    [[ $size == "$TOP" ]] && verdict=$backoff_verdict
    echo "| $size | $(ns_to_ms "$rm") ($(ns_to_ms "$rp")) | $(ns_to_ms "$em") ($(ns_to_ms "$ep")) | $verdict |"
  done
  echo
  echo "![services: time to running and to stop](charts/scaling-services-time.svg)"
  echo "![services: memory](charts/scaling-services-memory.svg)"
  echo "![services: one status write](charts/scaling-services-write.svg)"
  echo "![backoff with $TOP services](charts/scaling-backoff.svg)"
  echo
} >"$RESULTS_DIR/scaling-services.md"

# A Targets row: what, the cost's column, its target line's column, unit, verdict.
summary_row() {
  printf '| %s with %s services: linear or better | %s %s (target line %s %s) | %s |\n' "$1" "$TOP" \
    "$(top_value "$dat" "$2")" "$4" "$(top_value "$dat" "$3")" "$4" "$5"
}
{
  summary_row "exec → \`running\`" 2 9 ms "$running_verdict"
  summary_row "SIGTERM → exit" 5 10 ms "$stop_verdict"
  summary_row "RssAnon" 6 11 MiB "$anon_verdict"
  summary_row "one status write" 8 12 ms "$write_verdict"
  printf '| backoff reaction with %s services ≤ 20 ms median | %s ms (1 service: %s ms) | %s |\n' "$TOP" \
    "$(ns_to_ms "$reaction_top")" "$(ns_to_ms "$(median_of "$work/backoff-1/reaction")")" "$backoff_verdict"
} >"$RESULTS_DIR/scaling-services.summary"

cat "$RESULTS_DIR/scaling-services.md"

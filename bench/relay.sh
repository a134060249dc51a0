#!/usr/bin/env bash
# Scenario 12, the output relay of several services: two writers, each
# BENCH_RELAY_MB megabytes (default 300, 10^6 bytes) of 100-character lines,
# relayed to stdout, which is /dev/null and then a pipe read by
# `cat >/dev/null`. Side by side in the same run: boxinit (Mini-VM config,
# the two writers as services: every line prefixed "a | "), supervisord
# (Debian's `supervisor`; the writers as programs with
# stdout_logfile=/dev/stdout and stdout_logfile_maxbytes=0, as it is run in
# containers: unprefixed), and cat copying the same bytes. Measured: the relay
# process's own CPU (user+sys, /proc/PID/stat) and VmHWM, by relay-run.py.
# Each relay is also run with 0 bytes, and that start-and-stop cost is taken
# off, so that CPU-s/GB is the relaying alone. Target: boxinit ≤ 3 CPU-s/GB,
# within 2x of supervisord; VmHWM ≤ 32 MiB above its 0-byte run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MB=${BENCH_RELAY_MB:-300}
RUNS=${BENCH_RELAY_RUNS:-3}
BYTES=$((MB * 1000000))
[[ -x $BOXINIT ]] || { echo "relay: $BOXINIT is missing (run make)" >&2; exit 2; }
if ! command -v supervisord >/dev/null; then
  echo "relay: installing Debian's supervisor (apt-get install -y supervisor)" >&2
  apt-get install -y supervisor >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RELAYS=(boxinit supervisord cat)
OUTS=(devnull pipe)

# Median of the values in file $1 (floats, one per line).
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Interleaved rounds: each relay and output once per round, so that load
# that comes and goes falls on all of them alike.
for ((round = 1; round <= RUNS; round++)); do
  for out in "${OUTS[@]}"; do
    for relay in "${RELAYS[@]}"; do
      for size in "$BYTES" 0; do
        [[ $relay == cat && $size == 0 ]] && continue # cat has no start-up worth taking off
        read -r cpu hwm _ < <(python3 "$BENCH/relay-run.py" "$relay" "$out" "$size" "$work" "$BOXINIT")
        echo "$cpu" >>"$work/cpu-$relay-$out-$size"
        echo "$hwm" >>"$work/hwm-$relay-$out-$size"
      done
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

gb=$(awk -v b="$BYTES" 'BEGIN { print 2 * b / 1e9 }')
# CPU-s/GB of relay $1 into output $2: (its run − its 0-byte run) / GB relayed.
per_gb() {
  local base=0
  [[ -f $work/cpu-$1-$2-0 ]] && base=$(median "$work/cpu-$1-$2-0")
  awk -v c="$(median "$work/cpu-$1-$2-$BYTES")" -v b="$base" -v g="$gb" 'BEGIN { printf "%.2f", (c - b) / g }'
}
# VmHWM above the same relay's 0-byte run, MiB (n/a for cat).
hwm_above() {
  [[ -f $work/hwm-$1-$2-0 ]] || { echo n/a; return; }
  kb_to_mib $(($(median "$work/hwm-$1-$2-$BYTES") - $(median "$work/hwm-$1-$2-0")))
}
label() {
  case "$1" in
    boxinit) echo "boxinit (prefixed)" ;;
    supervisord) echo "supervisord $(supervisord --version) (unprefixed)" ;;
    cat) echo "cat of the same bytes" ;;
  esac
}

mkdir -p "$RESULTS_DIR"
: >"$RESULTS_DIR/relay.dat"
: >"$RESULTS_DIR/relay.summary"
{
  echo "## 12. Output relay: two services × ${MB} MB of 100-character lines"
  echo
  echo "$(boxinit_description); $(date -u '+%Y-%m-%d %H:%M UTC'); median of $RUNS; load average before: $load_before, after: $load_after."
  echo "boxinit's addon (${BOXINIT_ADDON:-beside it}) $(grep -q prefixLines "${BOXINIT_ADDON:-$(dirname "$BOXINIT")/boxinit.node}" 2>/dev/null && echo "has" || echo "lacks") the C loop over whole lines (prefixLines)."
  echo
  echo "| stdout | relay | CPU-s (median) | CPU-s/GB relayed | vs supervisord | VmHWM MiB | above its 0-byte run |"
  echo "|---|---|---|---|---|---|---|"
  for out in "${OUTS[@]}"; do
    sup=$(per_gb supervisord "$out")
    for relay in "${RELAYS[@]}"; do
      cost=$(per_gb "$relay" "$out")
      hwm=$(median "$work/hwm-$relay-$out-$BYTES")
      echo "| ${out/devnull//dev/null} | $(label "$relay") | $(median "$work/cpu-$relay-$out-$BYTES") | $cost | $(ratio "$cost" "$sup") | $(kb_to_mib "$hwm") | $(hwm_above "$relay" "$out") |"
      echo "\"$relay, ${out/devnull//dev/null}\" $cost $(kb_to_mib "$hwm")" >>"$RESULTS_DIR/relay.dat"
    done
    # Target: ≤ 3 CPU-s/GB, within 2x of supervisord, ≤ 32 MiB above the 0-byte run.
    awk -v s="$sup" -v m="$(hwm_above boxinit "$out")" -v o="${out/devnull//dev/null}" -v c="$(per_gb boxinit "$out")" 'BEGIN {
      met = c <= 3 && c <= 2 * s && m <= 32
      printf "| relay to %s ≤ 3 CPU-s/GB, ≤ 2× supervisord, VmHWM ≤ 32 MiB above idle | %.2f CPU-s/GB = %.2f× supervisord (%.2f), +%.1f MiB | %s |\n", o, c, (s > 0 ? c / s : 0), s, m, met ? "met" : "missed" }' >>"$RESULTS_DIR/relay.summary"
  done
  echo
  echo "CPU-s/GB: (CPU of the run − CPU of the same relay with 0 bytes) / GB relayed (2 × ${MB} MB)."
  echo
} >"$RESULTS_DIR/relay.md"
cat "$RESULTS_DIR/relay.md"

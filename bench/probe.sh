#!/usr/bin/env bash
# Scenario 13, probes: what one kubelet probe costs when PID 1 answers it
# (`probe: {port: N}`, GET /readyz) against an exec of `boxinit health --ready`,
# in the same run. PID 1's CPU time comes from its /proc/PID/schedstat over a
# window of paced probes, minus the same window idle; the exec's CPU time, wall
# time and peak RSS from wait4. Until the server is wired into dist/boxinit
# (a box whose probe port does not answer), the module is measured alone in a
# bare Node 24 process (bench/probe-host.ts, bundled), and the table says so.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

PROBES=${BENCH_PROBE_COUNT:-360}
EXECS=${BENCH_PROBE_EXECS:-30}
# The server closes connections from one address beyond 20 in a second
# (docs/health.md#probes), and probebench is one address: 18 a second
# (BENCH_PROBE_INTERVAL_US: another pace).
INTERVAL_US=${BENCH_PROBE_INTERVAL_US:-55556}
work=$(mktemp -d)
started_pids=()
cleanup() {
  for pid in "${started_pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
now_ns() { date +%s%N; }

# Waits up to 15 s for a command to succeed; fails the scenario with $1 otherwise.
wait_until() {
  local what=$1 deadline=$((SECONDS + 15))
  shift
  until "$@" 2>/dev/null; do
    if ((SECONDS > deadline)); then echo "probe: timed out waiting for $what" >&2; exit 1; fi
    sleep 0.05
  done
}

port=$("$NODE24" -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
mkdir -p "$work/state"
cat >"$work/boxinit.yaml" <<YAML
state_dir: $work/state
init_dir: $work/init.d
finish_dir: $work/finish.d
grace: 2s
probe: {port: $port}
services:
  app:
    command: [$BUILD/sigecho]
YAML

# The box, as PID 1 of its own namespace: the exec probes ask its status.json.
# --kill-child: the cleanup's SIGKILL of unshare takes the box with it (without
# it the box, re-parented to the host's init, outlived the scenario).
unshare --pid --fork --mount-proc --kill-child "$BOXINIT" -q --config "$work/boxinit.yaml" </dev/null >"$work/box.log" 2>&1 &
launcher=$!
started_pids+=("$launcher")
wait_until "boxinit as PID 1" grep -q . "/proc/$launcher/task/$launcher/children"
pid1=$(awk '{ print $1 }' "/proc/$launcher/task/$launcher/children")
wait_until "the box to be running (log: $work/box.log)" grep -qx running "$work/state/status"

if "$BUILD/probebench" http "$port" /readyz 1 >/dev/null 2>&1; then
  server=$pid1
  server_label="boxinit as PID 1 (\`probe: {port: N}\`)"
  whose="PID 1's"
else
  # Not wired yet: the module alone, bundled (no type stripping in the measured process).
  esbuild --bundle --platform=node --format=esm --target=node24 --log-level=warning \
    "$BENCH/probe-host.ts" --outfile="$BUILD/probe-host.mjs"
  "$NODE24" "$BUILD/probe-host.mjs" "$port" >"$work/host.out" 2>&1 &
  server=$!
  started_pids+=("$server")
  wait_until "bench/probe-host.ts to listen" grep -q '^ready' "$work/host.out"
  server_label="src/control/probe-server.ts alone in a bare Node 24 process (not in dist/boxinit yet)"
  whose="the server's"
fi

echo "probe: $PROBES probes at 18/s against $server_label, $EXECS execs of boxinit health" >&2
# The first answers load and compile what a probe needs; then an idle window as long as the probes' own.
"$BUILD/probebench" http "$port" /readyz 20 "$INTERVAL_US" >/dev/null
idle_start=$(now_ns)
idle_cpu0=$(cpu_ns "$server")
sleep "$(awk -v n="$PROBES" -v us="$INTERVAL_US" 'BEGIN { printf "%.3f", n * us / 1e6 }')"
idle_cpu1=$(cpu_ns "$server")
idle_ns=$(($(now_ns) - idle_start))

rss_before=$(status_kb "$server" RssAnon)
probe_start=$(now_ns)
probe_cpu0=$(cpu_ns "$server")
"$BUILD/probebench" http "$port" /readyz "$PROBES" "$INTERVAL_US" >"$work/http.txt"
probe_cpu1=$(cpu_ns "$server")
probe_ns=$(($(now_ns) - probe_start))
rss_after=$(status_kb "$server" RssAnon)
hwm=$(status_kb "$server" VmHWM)
awk '$2 != 200 { bad++ } END { if (bad) { print "probe: " bad " probes not answered 200" > "/dev/stderr"; exit 1 } }' "$work/http.txt"

"$BUILD/probebench" exec "$EXECS" "$BOXINIT" health --ready --state-dir "$work/state" >"$work/exec.txt"
awk '$4 != 0 { bad++ } END { if (bad) { print "probe: " bad " health execs did not exit 0" > "/dev/stderr"; exit 1 } }' "$work/exec.txt"

# PID 1's CPU per probe: the window's, less what the same length of idling costs (heartbeat, reaper sweep).
per_probe_ns=$(awk -v p="$((probe_cpu1 - probe_cpu0))" -v i="$((idle_cpu1 - idle_cpu0))" -v pw="$probe_ns" -v iw="$idle_ns" -v n="$PROBES" \
  'BEGIN { v = (p - i * pw / iw) / n; printf "%.0f\n", (v > 0 ? v : 0) }')
idle_per_s_ns=$(awk -v i="$((idle_cpu1 - idle_cpu0))" -v iw="$idle_ns" 'BEGIN { printf "%.0f\n", i / iw * 1e9 }')
awk '{ print $1 }' "$work/http.txt" >"$work/latency"
awk '{ print $1 }' "$work/exec.txt" >"$work/exec-wall"
awk '{ print $2 }' "$work/exec.txt" >"$work/exec-cpu"
awk '{ print $3 }' "$work/exec.txt" >"$work/exec-rss"
read -r lat_median lat_p90 _ < <(stats "$work/latency")
read -r wall_median wall_p90 _ < <(stats "$work/exec-wall")
read -r cpu_median cpu_p90 _ < <(stats "$work/exec-cpu")
read -r rss_median _ _ < <(stats "$work/exec-rss")

{
  echo "## 13. Probes"
  echo
  echo "One kubelet-style probe (\`GET /readyz\`, a new connection, \`Connection: close\`) answered by $server_label,"
  echo "$PROBES of them at 18 a second, against $EXECS execs of \`boxinit health --ready\` on the same box's status.json."
  echo "The server's CPU: \`/proc/PID/schedstat\` over the probes' window less the same length idle ($(ns_to_us "$idle_per_s_ns") µs of CPU per second idle)."
  echo
  echo "| probe | CPU per probe | per 1000 probes | latency / wall, median (p90) | memory |"
  echo "|---|---:|---:|---:|---|"
  echo "| httpGet answered by PID 1 | $(ns_to_us "$per_probe_ns") µs ($whose) | $(ns_to_ms "$((per_probe_ns * 1000))") ms | $(ns_to_us "$lat_median") µs ($(ns_to_us "$lat_p90")) | $whose RssAnon $(kb_to_mib "$rss_before") → $(kb_to_mib "$rss_after") MiB over the $PROBES, VmHWM $(kb_to_mib "$hwm") MiB |"
  echo "| exec \`boxinit health --ready\` | $(ns_to_ms "$cpu_median") ms ($(ns_to_ms "$cpu_p90")) (the exec's user + system) | $(awk -v v="$cpu_median" 'BEGIN { printf "%.1f", v * 1000 / 1e9 }') s | $(ns_to_ms "$wall_median") ms ($(ns_to_ms "$wall_p90")) | peak RSS of each exec $(kb_to_mib "$rss_median") MiB |"
  echo "| exec / httpGet | $(ratio "$cpu_median" "$per_probe_ns") | | $(ratio "$wall_median" "$lat_median") | |"
  echo
} >"$RESULTS_DIR/probe.md"

# Target: a probe answered by PID 1 costs at most 1 ms of its CPU and a twentieth of an exec probe's.
awk -v probe="$per_probe_ns" -v exec="$cpu_median" 'BEGIN {
  met = probe <= 1e6 && probe <= exec / 20
  printf "| a probe answered by PID 1 ≤ 1 ms of CPU and ≤ 1/20 of an exec probe'"'"'s | %.0f µs vs %.1f ms (1/%.0f) | %s |\n",
    probe / 1e3, exec / 1e6, (probe > 0 ? exec / probe : 0), met ? "met" : "missed" }' >"$RESULTS_DIR/probe.summary"

cat "$RESULTS_DIR/probe.md"

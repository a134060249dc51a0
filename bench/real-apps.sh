#!/usr/bin/env bash
# Scenario 10, real applications: Debian's Tomcat 10 (images/tomcat) and
# PostgreSQL 15 (examples/postgres) in real containers (--network host,
# loopback ports), under boxinit and under the seed's shell loop
# (bench/seed/loop.sh as the entrypoint of the same image). Measured from the
# host: `docker run -d` → `running` in the bind-mounted status file (time to
# running), `docker stop` (wall time, exit code, whether Docker had to
# SIGKILL), and for boxinit the backoff: `true` written → `stopping`
# (reaction) → `backedoff` → the container's exit. The seed's backoff is
# computed (its `sleep 30` loop: uniform 0–30 s, then the same stop command).
# Needs a Docker engine, boxinit/tomcat:latest and boxinit/postgres:latest
# (make e2e-images), 127.0.0.1:18080 and :15432 free; builds boxinit/tomcat
# plus curl (the seed's check) as a throwaway image (apt, --network host).
# Run on its own (bash bench/real-apps.sh) it appends its section, with the
# date and the machine, to bench/RESULTS.md; `make bench` writes it with the rest.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# No ensure_built: no helper of build.sh is used here.
mkdir -p "$RESULTS_DIR"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
RUNS=${BENCH_REAL_RUNS:-5}
read -r -a APPS <<<"${BENCH_REAL_APPS:-tomcat postgres}"
POLL_S=0.005
BOOT_TIMEOUT_S=180
# Docker's default stop timeout, which boxinit's 9 s grace is made to fit.
STOP_TIMEOUT_S=10
# boxinit's post-`running` work is done long before; then the backoff write.
SETTLE_S=1
SEED_LOOP_S=30
TOMCAT_BENCH_IMAGE="boxinit-bench/tomcat-curl:$$"

for image in boxinit/tomcat:latest boxinit/postgres:latest; do
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    echo "real-apps: needs a Docker engine and $image: run make e2e-images (as root) first" >&2
    exit 2
  fi
done
for port in 18080 15432; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "real-apps: 127.0.0.1:$port is in use; the containers (--network host) need it" >&2
    exit 2
  fi
done

work=$(mktemp -d)
box=""
cleanup() {
  [[ -z $box ]] || docker rm -f "$box" >/dev/null 2>&1 || true
  docker image rm "$TOMCAT_BENCH_IMAGE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "real-apps: building boxinit/tomcat + curl for the seed's check" >&2
printf 'FROM boxinit/tomcat:latest\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n' |
  docker build --network host -q -t "$TOMCAT_BENCH_IMAGE" - >/dev/null

now_us() { echo "${EPOCHREALTIME/./}"; }

# Waits until DIR/status says WORD; fails after TIMEOUT_S.
wait_status() {
  local dir=$1 word=$2 timeout_s=$3 deadline seen=""
  deadline=$(($(now_us) + timeout_s * 1000000))
  while :; do
    seen=""
    { read -r seen <"$dir/status"; } 2>/dev/null || true
    [[ $seen == "$word" ]] && return 0
    if (($(now_us) > deadline)); then
      echo "real-apps: $dir/status never said $word (last: ${seen:-nothing}); container $box:" >&2
      docker logs "$box" 2>&1 | tail -n 20 >&2
      return 1
    fi
    sleep "$POLL_S"
  done
}

# Appends microseconds as nanoseconds (lib.sh's stats and ns_to_ms) to a sample file.
record() { echo "$(($2 * 1000))" >>"$work/$1"; }

# Starts the box of app $1 under $2 (boxinit | seed) with state dir $3 (and data dir $4).
start_box() {
  local app=$1 variant=$2 state=$3 data=${4:-} image options
  options=(--network host --label boxinit.bench=1 -v "$state:/docker")
  case $app in
    tomcat) image=$TOMCAT_BENCH_IMAGE ;;
    postgres) image=boxinit/postgres:latest; options+=(-v "$data:/var/lib/postgresql/data") ;;
  esac
  box="bench-$app-$variant-$$"
  if [[ $variant == seed ]]; then
    docker run -d --name "$box" "${options[@]}" -v "$BENCH/seed:/bench-seed:ro" \
      --entrypoint /bin/bash "$image" /bench-seed/loop.sh "$app" >/dev/null
  else
    docker run -d --name "$box" "${options[@]}" "$image" >/dev/null
  fi
}

remove_box() {
  docker rm -f "$box" >/dev/null
  box=""
}

# A fresh state directory (mode 0755: the app's user reaches server.xml through
# it) and, for PostgreSQL, a copy of the cleanly stopped template cluster.
fresh_dirs() {
  local app=$1
  rm -rf "$work/state" "$work/data"
  mkdir -m 755 "$work/state"
  if [[ $app == postgres ]]; then cp -a "$work/pg-template" "$work/data"; fi
}

# One boot: `docker run -d` → `running`; leaves the box running.
boot() {
  local app=$1 variant=$2 started
  fresh_dirs "$app"
  started=$(now_us)
  start_box "$app" "$variant" "$work/state" "$work/data"
  wait_status "$work/state" running "$BOOT_TIMEOUT_S"
  record "$app-$variant-running" $(($(now_us) - started))
}

# Boot, then `docker stop -t 10`: wall time, exit code, Docker's SIGKILL.
run_stop() {
  local app=$1 variant=$2 before code
  boot "$app" "$variant"
  before=$(now_us)
  docker stop -t "$STOP_TIMEOUT_S" "$box" >/dev/null
  record "$app-$variant-stop" $(($(now_us) - before))
  code=$(docker inspect -f '{{.State.ExitCode}}' "$box")
  echo "$code" >>"$work/$app-$variant-stop-codes"
  remove_box
}

# Boot, then `true` into backoff (in place, as `echo true > backoff`):
# write → stopping → backedoff → the container's exit.
run_backoff() {
  local app=$1 before code
  boot "$app" boxinit
  sleep "$SETTLE_S"
  before=$(now_us)
  echo true >"$work/state/backoff"
  wait_status "$work/state" stopping 30
  record "$app-backoff-stopping" $(($(now_us) - before))
  wait_status "$work/state" backedoff 30
  record "$app-backoff-backedoff" $(($(now_us) - before))
  code=$(docker wait "$box")
  record "$app-backoff-exit" $(($(now_us) - before))
  echo "$code" >>"$work/$app-backoff-codes"
  remove_box
}

# A cluster made once and stopped cleanly: every run starts from a copy of it,
# so initdb is not timed and a seed run's SIGKILL (crash recovery) does not
# slow the next run.
if [[ " ${APPS[*]} " == *" postgres "* ]]; then
  echo "real-apps: PostgreSQL template cluster" >&2
  mkdir -m 755 "$work/state" && mkdir "$work/pg-template"
  start_box postgres boxinit "$work/state" "$work/pg-template"
  wait_status "$work/state" running "$BOOT_TIMEOUT_S"
  docker stop -t "$STOP_TIMEOUT_S" "$box" >/dev/null
  remove_box
fi

for app in "${APPS[@]}"; do
  for ((run = 1; run <= RUNS; run++)); do
    echo "real-apps: $app, run $run of $RUNS" >&2
    run_stop "$app" boxinit
    run_stop "$app" seed
    run_backoff "$app"
  done
done

median_of() { local median; read -r median _ < <(stats "$work/$1"); echo "$median"; }
cell() { local median p90; read -r median p90 _ < <(stats "$work/$1"); echo "$(ns_to_ms "$median") ($(ns_to_ms "$p90"))"; }
codes() { sort -n "$work/$1" | uniq -c | awk '{ printf "%sexit %s ×%s", sep, $2, $1; sep = ", " }'; }
killed() { awk '$1 == 137 { n++ } END { printf "%d of %d", n, NR }' "$work/$1"; }
app_label() { case $1 in tomcat) echo "Tomcat 10" ;; postgres) echo "PostgreSQL 15" ;; esac; }

{
  echo "## 10. Real applications: Tomcat 10 and PostgreSQL 15"
  echo
  if [[ -z ${BENCH_RUN_ALL:-} ]]; then
    echo "Run on its own (\`bash bench/real-apps.sh\`) $(date -u '+%Y-%m-%d %H:%M UTC'): $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), nproc $(nproc),"
    commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n $(git -C "$REPO" status --porcelain -- src native sea-config.json package.json 2>/dev/null) ]]; then
      commit="$commit + uncommitted changes in src/native"
    fi
    echo "kernel $(uname -r), Docker $(docker version --format '{{.Server.Version}}'), boxinit commit $commit,"
    echo "images built $(docker image inspect -f '{{.Created}}' boxinit/tomcat:latest | cut -c1-16 | tr T ' ') UTC (tomcat), $(docker image inspect -f '{{.Created}}' boxinit/postgres:latest | cut -c1-16 | tr T ' ') UTC (postgres),"
    echo "load average before/after $load_before / $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
  fi
  echo "Debian's tomcat10 (images/tomcat, \`catalina.sh start\`/\`stop 4\`, HTTP warm-up every 500 ms) and"
  echo "postgresql-15 (examples/postgres, \`pg_ctl start -w\`/\`stop -m fast\`, \`pg_isready\` every 250 ms), each in a"
  echo "\`--network host\` container with a bind-mounted state directory (PostgreSQL: a copy of a cleanly"
  echo "stopped cluster per run). *boxinit*: the image as built; *seed loop*: [seed/loop.sh](seed/loop.sh) as the"
  echo "entrypoint of the same image (the same start, check and stop commands at the same check interval,"
  echo "then \`sleep 30\` between backoff reads, no TERM trap). Times from the host, which polls the status"
  echo "file every 5 ms; $RUNS runs each, interleaved. Medians (p90), ms."
  echo
  echo "| application | measure | boxinit | seed loop | seed ÷ boxinit |"
  echo "|---|---|---:|---:|---:|"
  for app in "${APPS[@]}"; do
    label=$(app_label "$app")
    echo "| $label | \`docker run -d\` → \`running\` | $(cell "$app-boxinit-running") | $(cell "$app-seed-running") | $(ratio "$(median_of "$app-seed-running")" "$(median_of "$app-boxinit-running")") |"
    echo "| $label | \`docker stop\` (Docker's timeout: $STOP_TIMEOUT_S s) | $(cell "$app-boxinit-stop") | $(cell "$app-seed-stop") | $(ratio "$(median_of "$app-seed-stop")" "$(median_of "$app-boxinit-stop")") |"
    echo "| $label | \`docker stop\`: exit codes; SIGKILLed by Docker | $(codes "$app-boxinit-stop-codes"); $(killed "$app-boxinit-stop-codes") | $(codes "$app-seed-stop-codes"); $(killed "$app-seed-stop-codes") | |"
    reaction=$(median_of "$app-backoff-stopping")
    exit_median=$(median_of "$app-backoff-exit")
    # The seed reads backoff once per `sleep 30`: median 15 s, then the same stop command.
    seed_reaction=$((SEED_LOOP_S * 1000000000 / 2))
    echo "| $label | backoff: \`true\` written → \`stopping\` (the reaction) | $(cell "$app-backoff-stopping") | $(ns_to_ms "$seed_reaction") (computed) | $(ratio "$seed_reaction" "$reaction") |"
    echo "| $label | backoff: written → \`backedoff\` (the stop command ran) | $(cell "$app-backoff-backedoff") | | |"
    echo "| $label | backoff: written → the container's exit (exit codes: $(codes "$app-backoff-codes")) | $(cell "$app-backoff-exit") | $(ns_to_ms $((seed_reaction + exit_median - reaction))) (computed) | $(ratio $((seed_reaction + exit_median - reaction)) "$exit_median") |"
  done
  echo
  echo -n "Reading it: time to \`running\` is mostly the application's own start (a JVM, a postmaster) under both."
  echo -n " What boxinit adds is its own work: starting a Node executable (scenario 7: about 50 ms on a quiet"
  echo -n " machine, much more when the CPUs are busy: see the load average), its status writes, and spawning the"
  echo -n " warm-up check, where the seed's bash starts in a millisecond. Difference of the medians, boxinit − seed loop:"
  for app in "${APPS[@]}"; do
    echo -n " $(app_label "$app") $(ns_to_ms $(($(median_of "$app-boxinit-running") - $(median_of "$app-seed-running")))) ms;"
  done
  echo " with $RUNS runs on a loaded machine a JVM's start varies by more than that."
  echo
  echo "A backoff reaches boxinit within milliseconds (the host's"
  echo "5 ms poll of the status file is part of that number; scenario 6 times it exactly); the rest is the"
  echo "application's stop command. Tomcat's \`catalina.sh stop 4\` starts a JVM for its stop request (Debian's"
  echo "server.xml has no shutdown port, so that fails and it sends SIGTERM through CATALINA_PID), then checks"
  echo "once a second whether the JVM is gone: a Tomcat stop costs 1–2 s whoever calls it. \`pg_ctl stop\` checks"
  echo "every 100 ms. The seed's \`docker stop\` waits out Docker's whole timeout and ends in SIGKILL (exit 137):"
  echo "bash as PID 1 without a trap never sees the SIGTERM, and PostgreSQL then needs crash recovery at its next start."
  echo
} >"$RESULTS_DIR/real-apps.md"

for app in "${APPS[@]}"; do
  echo "| real apps, $(app_label "$app"): backoff written → \`stopping\` (no target; the seed loop: 15 s); \`docker stop\` | $(ns_to_ms "$(median_of "$app-backoff-stopping")") ms; \`docker stop\` $(ns_to_ms "$(median_of "$app-boxinit-stop")") ms (seed loop: $(ns_to_ms "$(median_of "$app-seed-stop")") ms, $(killed "$app-seed-stop-codes") SIGKILLed) | — |"
done >"$RESULTS_DIR/real-apps.summary"

if [[ -z ${BENCH_RUN_ALL:-} ]]; then
  { echo; cat "$RESULTS_DIR/real-apps.md"; } >>"$BENCH/RESULTS.md"
  echo "real-apps: appended to $BENCH/RESULTS.md" >&2
fi
cat "$RESULTS_DIR/real-apps.md"

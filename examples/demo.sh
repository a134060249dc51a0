#!/usr/bin/env bash
# `make demo`: boxinit shown as a normal user, without root or Docker (boxinit
# registers as a child subreaper: the same guarantees as PID 1). Part one is
# Mini-VM mode (config, daemonizing app, warm-up, status file, backoff), then a
# batch job (failure report, backoff); last the tini-style duties (exit codes,
# orphans, signals, the grace budget).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
boxinit=$repo/dist/boxinit
demo=$repo/build/demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# A fresh demo directory: the config with absolute paths, the state directory.
rm -rf "$demo"
mkdir -p "$demo/state"
sed -e "s|@DEMO@|$demo|g" -e "s|@EXAMPLE@|$repo/examples/mini-vm|g" examples/mini-vm/boxinit.yaml >"$demo/boxinit.yaml"
export BOXINIT_DEMO_DIR=$demo
config=(--config "$demo/boxinit.yaml")

say "1. boxinit check: the config is validated and the start plan printed; nothing starts"
$boxinit check "${config[@]}"

say "2. Mini-VM: init script, link, a start script that daemonizes the app (pidfile), warm-up, a helper service"
$boxinit "${config[@]}" &
pid=$!
last=""
for _ in $(seq 1 300); do  # watch the status file the way a host tool would
  word=$(cat "$demo/state/status" 2>/dev/null)
  if [ -n "$word" ] && [ "$word" != "$last" ]; then echo "-> $demo/state/status says: $word"; last=$word; fi
  [ "$word" = running ] && break
  sleep 0.05
done
$boxinit status --state-dir "$demo/state"

say "3. Backoff from outside: echo true > state/backoff -> the app is stopped with its stop script, at once"
echo true >"$demo/state/backoff"
wait "$pid"
echo "-> boxinit exited with code $? (the stop script's); status: $(cat "$demo/state/status")"

say "4. Backoff already engaged at start: nothing starts, exit 0"
$boxinit "${config[@]}"
echo "-> exit code $?; status: $(cat "$demo/state/status")"
$boxinit backoff off --state-dir "$demo/state"

say "5. A batch job (cron wrapper) that fails: output passed through, report saved, exit code kept"
$boxinit job nightly-export --state-dir "$demo/state" --on-failure 'echo "hook: $BOXINIT_JOB failed with $BOXINIT_EXIT_CODE, see $BOXINIT_LOG_FILE"' \
  -- sh -c 'echo "exporting as $(id -un), DEMO_DIR=$BOXINIT_DEMO_DIR"; echo "disk full" >&2; exit 3'
echo "-> exit code $?; reports in state/logs:"
ls "$demo/state/logs"
head -n 9 "$demo/state/logs/"*-cron-failure-nightly-export-exit-3-*

say "6. The same job while backoff is engaged: nothing runs, exit 0"
$boxinit backoff on --state-dir "$demo/state"
$boxinit job nightly-export --state-dir "$demo/state" -- sh -c 'echo "this must not run"; exit 1'
echo "-> exit code $?"
$boxinit backoff off --state-dir "$demo/state"
$boxinit status --state-dir "$demo/state" | sed -n '/^jobs:/,$p'

say "7. Tini-style: the command's exit code comes back exactly: boxinit -- sh -c 'exit 3'"
$boxinit -- sh -c 'exit 3'
echo "-> exit code $?"

say "8. A start script daemonizes a server and exits: the daemon gets SIGTERM and time to clean up"
$boxinit --grace 3s -- sh -c '
  setsid sh -c "trap \"echo daemon: got SIGTERM, flushing...; sleep 0.5; echo daemon: clean exit; exit 0\" TERM
                while :; do sleep 0.1; done" &
  echo "start script: daemon started, exiting 0"'
echo "-> exit code $?"

say "9. 2000 orphaned processes are reaped (-vv would log each one)"
$boxinit -- build/fixtures/orphans 2000
echo "-> exit code $?"

say "10. An app that ignores SIGTERM is killed at the grace deadline (--grace 1s here, 9s by default)"
$boxinit --grace 1s -- sh -c "trap '' TERM; echo 'app: ignoring SIGTERM'; sleep 60" &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
echo "-> exit code $?"

say "Done. Try it interactively too: $boxinit -- bash -i   (job control works, Ctrl-C reaches the foreground job once)"

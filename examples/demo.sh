#!/usr/bin/env bash
# `make demo`: boxinit's PID 1 duties shown as a normal user, without root or
# Docker (boxinit registers as a child subreaper, the same guarantees as PID 1).
set -uo pipefail
cd "$(dirname "$0")/.."
boxinit=dist/boxinit
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. The command's exit code comes back exactly: boxinit -- sh -c 'exit 3'"
$boxinit -- sh -c 'exit 3'
echo "-> exit code $?"

say "2. A start script daemonizes a server and exits: the daemon gets SIGTERM and time to clean up"
$boxinit --grace 3s -- sh -c '
  setsid sh -c "trap \"echo daemon: got SIGTERM, flushing...; sleep 0.5; echo daemon: clean exit; exit 0\" TERM
                while :; do sleep 0.1; done" &
  echo "start script: daemon started, exiting 0"'
echo "-> exit code $?"

say "3. 2000 orphaned processes are reaped (-vv would log each one)"
$boxinit -- build/fixtures/orphans 2000
echo "-> exit code $?"

say "4. docker stop: SIGTERM reaches the app's process group once; the app's death by TERM is 143"
$boxinit -- sh -c 'echo "app: running as pid $$"; exec sleep 60' &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
echo "-> exit code $? (use --remap-exit 143:0 to call that success)"

say "5. An app that ignores SIGTERM is killed at the grace deadline (--grace 1s here, 9s by default)"
$boxinit --grace 1s -- sh -c "trap '' TERM; echo 'app: ignoring SIGTERM'; sleep 60" &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
echo "-> exit code $?"

say "Done. Try it interactively too: $boxinit -- bash -i   (job control works, Ctrl-C reaches the foreground job once)"

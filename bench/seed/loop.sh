#!/bin/bash
# The seed's loop: what boxinit replaces, kept as the baseline of bench
# scenario 10 (real-apps.sh). It runs as the container's entrypoint (PID 1)
# in the same image as boxinit does: prepare (links, first-start seeding),
# run the app's start script (it daemonizes), check it until it answers
# (curl / pg_isready, at the interval the image's boxinit.yaml uses, so the
# comparison is the supervisor's and not the poll's), then forever write
# `running` to /docker/status, read /docker/backoff and, when it says
# `true`, run the stop script, write `backedoff` and exit with the stop
# script's code; else `sleep 30`. Like the seed it has no TERM trap: as PID 1
# it ignores `docker stop`'s SIGTERM, so Docker SIGKILLs it (and the app)
# after the stop timeout.
#   loop.sh tomcat|postgres        (the app's start/check/stop: tomcat.sh, postgres.sh)
set -u
app=$1
# shellcheck source=/dev/null
source "$(dirname "$0")/$app.sh"

app_prepare
app_start
until app_check; do sleep "$APP_CHECK_INTERVAL"; done
while true; do
  echo running >/docker/status
  if [ "$(cat /docker/backoff 2>/dev/null)" = true ]; then
    app_stop
    code=$?
    echo backedoff >/docker/status
    exit $code
  fi
  sleep 30
done

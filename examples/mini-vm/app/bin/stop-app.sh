#!/bin/sh
# Like stop-confluence.sh: ask the server to stop and wait for it.
pid=$(cat "$APP_HOME/work/app.pid")
echo "stop-app.sh: stopping pid $pid"
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
echo "stop-app.sh: stopped"

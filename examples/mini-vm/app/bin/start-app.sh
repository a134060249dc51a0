#!/bin/sh
# Like Confluence's start-confluence.sh: start the server in the background,
# write its pid, return at once. The server takes a moment to answer (a JVM
# would take minutes), which is what the warm-up waits for.
set -e
cd "$APP_HOME"
setsid sh -c '
  echo "app: reading conf/settings.txt: $(cat conf/settings.txt)"
  sleep 1
  echo "app: listening on 127.0.0.1:$APP_PORT"
  exec python3 -m http.server "$APP_PORT" --bind 127.0.0.1
' >>work/app.log 2>&1 </dev/null &
echo $! > work/app.pid
echo "start-app.sh: server started as pid $!, exiting"

# shellcheck shell=bash
# The seed loop's PostgreSQL (bench/seed/loop.sh): the same pg_ctl start -w,
# pg_isready and pg_ctl stop -m fast as examples/postgres's boxinit.yaml;
# the cluster is created by the example's own init.d script.
APP_CHECK_INTERVAL=0.25
pg() { setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$@"; }
app_prepare() { /etc/boxinit/init.d/10-initdb; }
app_start() { pg pg_ctl start -w -t 60 -D "$PGDATA"; }
app_check() { pg pg_isready -q -h 127.0.0.1; }
app_stop() { pg pg_ctl stop -w -t 6 -m fast -D "$PGDATA"; }

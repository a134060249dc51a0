# shellcheck shell=bash
# The seed loop's Tomcat (bench/seed/loop.sh): the same catalina.sh start and
# stop, environment, user, link and server.xml seeding as images/tomcat's
# boxinit.yaml and init.d, written as the seed's shell would. curl comes
# from the bench's image (boxinit/tomcat plus curl).
APP_CHECK_INTERVAL=0.5
as_tomcat() {
  (cd /var/lib/tomcat10 && exec setpriv --reuid=tomcat --regid=tomcat --init-groups \
    env HOME=/var/lib/tomcat10 CATALINA_PID=/run/tomcat10/catalina.pid CATALINA_OUT=/run/tomcat10/console \
      CATALINA_OUT_CMD=cat CATALINA_TMPDIR=/tmp JAVA_OPTS=-Djava.awt.headless=true "$@")
}
app_prepare() {
  [ -e /docker/server.xml ] || cp /etc/tomcat10/server.xml.dist /docker/server.xml
  ln -sf /docker/server.xml /etc/tomcat10/server.xml
}
app_start() { as_tomcat /usr/share/tomcat10/bin/catalina.sh start; }
app_check() { curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:18080/ 2>/dev/null; }
app_stop() { as_tomcat /usr/share/tomcat10/bin/catalina.sh stop 4; }

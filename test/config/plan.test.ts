import { join } from "node:path";
import t from "tap";
import { loadConfig } from "../../src/config/load.ts";
import { describePlan, formatArgv, formatPlanDuration } from "../../src/config/plan.ts";
import type { Config } from "../../src/config/types.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/config");

const loadFixture = async (file: string): Promise<Config> => {
  const result = await loadConfig({
    path: join(FIXTURES, file), env: {}, passwdFile: join(FIXTURES, "passwd"), groupFile: join(FIXTURES, "group"), isRoot: true,
  });
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result.config;
};

t.test("the plan of every key, in start order", async (t) => {
  t.equal(describePlan(await loadFixture("full.yaml")), `config: ${join(FIXTURES, "full.yaml")}
state dir: /srv/state
grace: 20s
heartbeat: 1m
backoff: /srv/state/backoff, polled every 250ms
init scripts: /srv/init.d
finish scripts: /srv/finish.d
links:
  /etc/app/app.conf -> /srv/state/app.conf
  /etc/app/extra.conf -> /srv/state/extra.conf
services, in start order:
  1. db
     command: /usr/bin/db
     user: app (uid 1000, gid 1000, groups 1000,999, HOME /home/app)
     pidfile: /run/db.pid (waited for up to 2m)
     warm-up: GET http://127.0.0.1:5432/ready until it answers 2xx, every 1s, 5s per try, then fail after 5m
     restart: no
     critical: no
     stop: SIGINT to its process group
  2. web
     command: /usr/bin/web --port 8080 1.10
     user: confluence (uid 2002, gid 999, groups 999,4, HOME /var/atlassian/application-data/confluence)
     cwd: /srv/web
     env: PORT, VERSION, DEBUG, EMPTY
     after: db
     warm-up: /usr/bin/curl -sf http://localhost:8080/health until it exits 0, every 2s, 1s per try, then continue anyway after 1h
     restart: always, after 500ms doubling up to 30s, at most 0 restarts in a row (a run of 1m resets the count)
     critical: yes (the container stops with it)
     stop: /bin/sh -c '/usr/bin/web-stop --now', then SIGQUIT to its process group if it still runs
shutdown: web, db, then finish scripts, all within 20s
`);
});

t.test("no file, no services", async (t) => {
  const config: Config = {
    source: undefined, stateDir: "/docker", graceMs: 9000, heartbeatMs: 30_000, initDir: "/etc/boxinit/init.d",
    finishDir: "/etc/boxinit/finish.d", backoffFile: "/docker/backoff", backoffOnEngage: "exit", backoffWatch: "inotify", backoffPollMs: 1000, links: [], services: [],
    jobs: [], jobLogs: { keep: 100, maxAgeMs: 30 * 86_400_000 },
  };
  t.equal(describePlan(config), `config: none (/etc/boxinit/boxinit.yaml not found: defaults)
state dir: /docker
grace: 9s
heartbeat: 30s
backoff: /docker/backoff, watched with inotify (poll interval 1s)
init scripts: /etc/boxinit/init.d
finish scripts: /etc/boxinit/finish.d
links: none
services: none
shutdown: finish scripts, all within 9s
`);
});

t.test("the SPEC example reads as intended", async (t) => {
  const plan = describePlan(await loadFixture("good.yaml"));
  t.match(plan, "  1. confluence\n");
  t.match(plan, "     stop: /opt/atlassian/confluence/bin/stop-confluence.sh, then SIGTERM to its process group if it still runs\n");
  t.match(plan, "     command: /bin/sh -c 'exec fluent-bit -c /etc/fluent-bit.conf'\n");
  t.match(plan, "     user: boxinit's own\n");
});

t.test("argv and durations for humans", async (t) => {
  t.equal(formatArgv(["/bin/sh", "-c", "echo 'hi' there"]), `/bin/sh -c 'echo '\\''hi'\\'' there'`);
  t.equal(formatArgv(["a", ""]), "a ''");
  t.equal(formatPlanDuration(250), "250ms");
  t.equal(formatPlanDuration(1500), "1.5s");
  t.equal(formatPlanDuration(90_000), "1m30s");
  t.equal(formatPlanDuration(3_600_000), "1h");
  t.equal(formatPlanDuration(60_500), "60.5s");
});

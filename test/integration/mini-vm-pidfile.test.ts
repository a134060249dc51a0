// Daemonizing services as real ones write their pidfiles (issue 12), on the
// real binary as PID 1 and as subreaper: the pid on the first line of a
// several-line file (PostgreSQL's postmaster.pid), an application's pidfile
// never removed or rewritten by boxinit, and a start that does not come up
// (wrong pidfile path, a foreground command) stopped with TERM first,
// everything it left behind, before the next try: the daemon is never
// started twice, and the first cause is the one reported.
import t from "tap";
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, ROOT, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";
import { isProcessAlive } from "../../src/supervisor/pidfile.ts";

t.teardown(killAllRuns);

const DAEMONS = join(ROOT, "test/fixtures/daemons");
const CATALINA = join(DAEMONS, "catalina-like.sh");
const POSTGRES = join(DAEMONS, "postgres-like.sh");

/** The EVENTS file of the stand-ins, as lines. */
const eventsOf = (box: Box): string[] => {
  const file = join(box.dir, "events");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
};
const pidsOf = (events: readonly string[], word: string): number[] =>
  events.filter((line) => line.startsWith(`${word} `)).map((line) => Number(line.split(" ")[1]));

for (const mode of MODES) {
  t.test(`${mode}: daemons and their pidfiles`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("postmaster.pid: the pid on its first line is followed, the file is left to its owner", async (t) => {
      const box = makeBox(t, `grace: 5s
services:
  db:
    command: [${POSTGRES}, start]
    stop: [${POSTGRES}, stop]
    env: {DATADIR: BOX/data, EVENTS: BOX/events}
    pidfile: BOX/data/postmaster.pid
    pidfile_timeout: 10s
`);
      mkdirSync(join(box.dir, "data"));
      const lock = join(box.dir, "data", "postmaster.pid");
      box.killPidfileOnTeardown(lock, mode);
      const run = startBoxinit(mode, box.args);
      await box.waitForStatus(["running", "failed", "stopped"]);
      t.equal(box.status(), "running", "the box came up");
      const firstLine = Number(readFileSync(lock, "utf8").split("\n")[0]);
      t.equal(box.statusJson()?.services.db.pid, firstLine, "status.json follows the postmaster's pid from the first line");
      // The status is on disk at once, the log line reaches this test through a pipe: wait for it.
      t.ok(await run.waitFor(new RegExp(`following pid ${firstLine} from \\S+postmaster\\.pid`), "stderr"), "the log names the pid it follows");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0, "a clean stop through the stop command");
      const events = eventsOf(box);
      t.same(pidsOf(events, "started"), [firstLine], "started once");
      t.same(pidsOf(events, "TERM"), [firstLine], "stopped by its stop command");
      t.equal(events.filter((line) => line === "stop command").length, 1);
      t.notOk(existsSync(lock), "the daemon removed its own lock at its clean stop (boxinit did not need to)");
    });

    await t.test("an application's pidfile that the start does not write is never removed or rewritten", async (t) => {
      const box = makeBox(t, `services:
  db:
    command: [/bin/true]
    pidfile: BOX/data/postmaster.pid
    pidfile_timeout: 400ms
    restart: on-failure
    restart_delay: 50ms
    max_restarts: 1
`);
      mkdirSync(join(box.dir, "data"));
      const lock = join(box.dir, "data", "postmaster.pid");
      // The lock of a server this box knows nothing of: pid 1 and several lines.
      const content = "1\n/var/lib/postgresql/15/main\n1764640000\n5432\n";
      writeFileSync(lock, content);
      const past = new Date(Date.now() - 3600_000);
      utimesSync(lock, past, past);
      const mtimeMs = statSync(lock).mtimeMs;
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69, "the service did not come up: EX_UNAVAILABLE");
      t.ok(existsSync(lock), "the lock is still there after two starts");
      t.equal(readFileSync(lock, "utf8"), content, "unchanged");
      t.equal(statSync(lock).mtimeMs, mtimeMs, "not even touched");
      t.match(result.stderr, /pidfile \S+postmaster\.pid still holds what it held before this start \(pid 1, from an earlier run\): the start did not write it within pidfile_timeout \(400ms/);
      t.notMatch(result.stderr, /could not remove the old pidfile/);
    });

    for (const [name, daemonScript, env, configuredPidfile] of [
      ["catalina.sh start (daemon in the start's session)", CATALINA, "{PIDFILE: BOX/catalina.pid, EVENTS: BOX/events}", "BOX/wrong.pid"],
      ["pg_ctl start (daemon in a session of its own)", POSTGRES, "{DATADIR: BOX/data, EVENTS: BOX/events}", "BOX/data/wrong.pid"],
    ] as const) {
      await t.test(`${name}, wrong pidfile path: each failed start is stopped (TERM) before the next, exit 69 with the first cause`, async (t) => {
        const box = makeBox(t, `grace: 5s
services:
  app:
    command: [${daemonScript}, start]
    env: ${env}
    pidfile: ${configuredPidfile}
    pidfile_timeout: 1s
    restart: on-failure
    restart_delay: 50ms
    max_restarts: 2
`);
        mkdirSync(join(box.dir, "data"));
        const result = await runBoxinit(mode, box.args, { timeoutMs: 40_000 });
        const events = eventsOf(box);
        const started = pidsOf(events, "started");
        t.equal(result.code, 69, "EX_UNAVAILABLE: the documented code of a start that does not come up");
        t.equal(started.length, 3, `three starts, each one clean: ${events.join(" | ")}`);
        t.same(pidsOf(events, "refused"), [], "no start found the previous daemon still running");
        t.same(pidsOf(events, "TERM").sort(), [...started].sort(), "every daemon got SIGTERM");
        t.notMatch(result.stderr, /appears to still be running|already exists/);
        t.match(result.stderr, /did not appear within pidfile_timeout \(1s/, "the cause is named");
        t.match(result.stderr, new RegExp(`stopping what the failed start left behind: pid ${started[0]} \\(sh\\)`), "the log names what it stops");
        t.notMatch(result.stderr, /killed what the failed start left behind/, "nothing needed SIGKILL");
        // Every TERM came before the next start: the events interleave started, TERM, started, TERM ...
        const order = events.filter((line) => /^(started|TERM) /.test(line)).map((line) => line.split(" ")[0]);
        t.same(order, ["started", "TERM", "started", "TERM", "started", "TERM"], "stopped before the next try");
        for (const pid of started) t.notOk(mode === "subreaper" && isProcessAlive(pid), `daemon ${pid} is gone`);
      });
    }

    await t.test("a stop command comes first when a start does not come up", async (t) => {
      const box = makeBox(t, `grace: 5s
services:
  app:
    command: [${CATALINA}, start]
    stop: [${CATALINA}, stop]
    env: {PIDFILE: BOX/catalina.pid, EVENTS: BOX/events}
    pidfile: BOX/wrong.pid
    pidfile_timeout: 500ms
`);
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69);
      const events = eventsOf(box);
      t.same(events.map((line) => line.split(" ")[0]), ["started", "stop", "TERM"], `the stop command stopped it: ${events.join(" | ")}`);
      t.match(result.stderr, /running the stop command of service app/);
    });

    await t.test("catalina.sh run with a pidfile (a foreground start): TERM first, named in the log, exit 69", async (t) => {
      const box = makeBox(t, `grace: 5s
services:
  app:
    command: [${CATALINA}, run]
    env: {PIDFILE: BOX/catalina.pid, EVENTS: BOX/events}
    pidfile: BOX/catalina.pid
    pidfile_timeout: 500ms
`);
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69);
      t.match(result.stderr, /the start command did not exit within pidfile_timeout \(500ms\)/);
      const started = pidsOf(eventsOf(box), "started");
      t.equal(started.length, 1, "started once");
      t.match(result.stderr, new RegExp(`stopping what the failed start left behind: pid ${started[0]} \\(sh\\)`), "the log names the foreground process");
      t.same(pidsOf(eventsOf(box), "TERM"), started, "it got SIGTERM, and it was the one started");
      t.notMatch(result.stderr, /killed what the failed start left behind/, "no SIGKILL was needed");
    });
  });
}

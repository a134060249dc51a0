// Mini-VM lifecycle on the built binary: a daemonizing service followed
// through its pidfile and warmed up over HTTP, the ways a boot fails, init
// scripts, links, and a main command after the services. Each behaviour runs
// with boxinit as PID 1 and as a subreaper.
import t from "tap";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { join } from "node:path";
import { MODES, ROOT, boxinitTool, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { freePort, hasPython, makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const DAEMON_START = join(ROOT, "test/fixtures/daemons/http-daemon-start.sh");
const STOP_PIDFILE = join(ROOT, "test/fixtures/daemons/stop-pidfile.sh");

const FINAL = ["stopped", "backedoff", "failed"];

/** The HTTP status of GET http://127.0.0.1:PORT/, or the error code (ECONNREFUSED). */
const httpGet = (port: number): Promise<number | string> =>
  new Promise((resolve) => {
    const request = get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    request.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });

for (const mode of MODES) {
  t.test(`${mode}: mini-vm lifecycle`, async (t) => {
    const missing = missingPrerequisite(mode) ?? (hasPython() ? undefined : "python3 is missing: the daemon fixture serves HTTP with python3 -m http.server");
    if (missing) return t.fail(missing);
    t.teardown(killAllRuns);

    await t.test("a daemonizing service: warming until it answers, running after; SIGTERM runs its stop command", async (t) => {
      const port = await freePort();
      // The start script exits, and the daemon listens, only once the test has
      // seen `starting`, then `warming`: each state lasts until it was seen.
      const box = makeBox(t, `grace: 5s
services:
  web:
    command: [${DAEMON_START}, BOX/web.pid, "${port}", "0", "0", BOX/go-listen, BOX/go-exit]
    pidfile: BOX/web.pid
    pidfile_timeout: 10s
    stop: [${STOP_PIDFILE}, BOX/web.pid, BOX/stopped, "3"]
    warmup: {http: "http://127.0.0.1:${port}/", interval: 50ms, timeout: 10s}
`);
      box.killPidfileOnTeardown(join(box.dir, "web.pid"), mode);
      t.equal(await httpGet(port), "ECONNREFUSED", `nothing listens on ${port} before the test`);
      const run = startBoxinit(mode, box.args);
      t.same(await box.waitForStatus(["starting", "warming", "running", ...FINAL]), ["starting"], "starting while the start command runs");
      writeFileSync(join(box.dir, "go-exit"), "");
      t.same(await box.waitForStatus(["warming", "running", ...FINAL]), ["starting", "warming"], "warming once the start command exited");
      t.equal(await httpGet(port), "ECONNREFUSED", "nothing answers yet while warming");
      writeFileSync(join(box.dir, "go-listen"), "");
      t.same(await box.waitForStatus(["running", ...FINAL]), ["warming", "running"], "running only after the warm-up: never running before warming");
      t.equal(await httpGet(port), 200, "the server answers once the status says running");
      // status is written before the log line reaches our pipe: wait for the line, bounded.
      t.ok(await run.waitFor(/warm-up passed service=web tries=\d+/, "stderr", 5000), "the log says the warm-up passed");

      const pid = Number(readFileSync(join(box.dir, "web.pid"), "utf8"));
      t.ok(pid > 1, `the pidfile names the daemon (pid ${pid})`);
      const json = boxinitTool(["status", "--state-dir", box.stateDir, "--json"]);
      t.equal(json.code, 0, "status --json exits 0");
      const document = JSON.parse(json.stdout);
      t.equal(document.state, "running");
      t.equal(document.services.web.state, "running");
      t.equal(document.services.web.pid, pid, "status.json follows the pid from the pidfile");
      t.type(document.services.web.readyAt, "string", "readyAt is set once warm");
      const human = boxinitTool(["status", "--state-dir", box.stateDir]);
      t.equal(human.code, 0, "status exits 0");
      t.match(human.stdout, /^state:\s+running since /m, "status and status --json agree on the state");
      t.match(human.stdout, new RegExp(`^\\s+web\\s+running\\s+pid ${pid}\\s`, "m"), "and on the service's pid");

      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 3, "exit code of the stop command");
      t.equal(readFileSync(join(box.dir, "stopped"), "utf8"), `stopped ${pid}\n`, "the stop command ran and saw the daemon go");
      t.equal(box.status(), "stopped");
      t.equal(box.statusJson()?.exitCode, 3);
      t.equal(box.statusJson()?.services.web.state, "stopped");
      t.match(run.stderr, /running the stop command of service web/);
      t.match(run.stderr, /the stop command of service web exited with code 3/);
      t.equal(await httpGet(port), "ECONNREFUSED", "the daemon is gone");
    });

    await t.test("a start command that exits non-zero fails the boot with its code", async (t) => {
      const box = makeBox(t, `services:
  web:
    command: "echo start-failed; exit 5"
    pidfile: BOX/web.pid
    pidfile_timeout: 5s
`);
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 5, "the start command's code");
      t.equal(box.status(), "failed");
      t.equal(box.statusJson()?.exitCode, 5);
      t.match(result.stderr, /service web: the start command exited with code 5/);
    });

    await t.test("a pidfile that never appears fails the boot with 69", async (t) => {
      const box = makeBox(t, `services:
  web:
    command: [/bin/true]
    pidfile: BOX/web.pid
    pidfile_timeout: 300ms
`);
      const startedAt = Date.now();
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69, "EX_UNAVAILABLE");
      t.equal(box.status(), "failed");
      // The message says what was wrong (never written) and names the setting, not the time left.
      t.match(result.stderr, /service web: pidfile \S+web\.pid did not appear within pidfile_timeout \(300ms, counted from the start command.s launch\)/);
      t.ok(Date.now() - startedAt >= 300, "not given up before pidfile_timeout");
    });

    await t.test("a pidfile naming a dead pid fails the boot with 69", async (t) => {
      const box = makeBox(t, `services:
  web:
    command: "true & wait $!; echo $! > BOX/web.pid"
    pidfile: BOX/web.pid
    pidfile_timeout: 5s
`);
      const result = await runBoxinit(mode, box.args);
      const pid = readFileSync(join(box.dir, "web.pid"), "utf8").trim();
      t.equal(result.code, 69, "EX_UNAVAILABLE");
      t.equal(box.status(), "failed");
      t.match(result.stderr, new RegExp(`pidfile \\S+web\\.pid names pid ${pid}, which is not running`));
    });

    await t.test("init scripts run in order before the services", async (t) => {
      const box = makeBox(t, `services:
  svc:
    command: "cat BOX/init-order > BOX/svc-saw; echo saw-it; exec sleep 1000"
`);
      box.script("init.d/20-second", `echo second >> ${box.dir}/init-order\n`);
      box.script("init.d/10-first", `echo first >> ${box.dir}/init-order\n`);
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running");
      await run.waitFor(/started service svc/, "stderr", 5000);
      const initAt = run.stderr.search(/running init script \S+20-second/);
      const serviceAt = run.stderr.search(/started service svc/);
      t.ok(initAt >= 0 && serviceAt > initAt, "the log shows the init scripts before the service");
      // `running` says the service was started, not that its shell got this far.
      await run.waitFor(/^saw-it$/m);
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      t.equal(readFileSync(join(box.dir, "svc-saw"), "utf8"), "first\nsecond\n", "the service saw both init scripts' work, in lexical order");
      t.equal(box.status(), "stopped");
    });

    await t.test("an init script that fails stops the boot with its code; no service starts", async (t) => {
      const box = makeBox(t, `services:
  svc:
    command: "touch BOX/svc-started; exec sleep 1000"
`);
      box.script("init.d/10-fail", "exit 4\n");
      box.script("init.d/20-later", `touch ${box.dir}/later-ran\n`);
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 4, "the init script's code");
      t.equal(box.status(), "failed");
      t.equal(box.statusJson()?.exitCode, 4);
      t.equal(box.statusJson()?.services.svc.pid, null, "the service never had a pid");
      t.notOk(existsSync(join(box.dir, "svc-started")), "the service did not start");
      t.notOk(existsSync(join(box.dir, "later-ran")), "no init script runs after the failed one");
      t.match(result.stderr, /init script \S+10-fail failed with exit code 4/);
      t.notMatch(result.stderr, /started service svc/);
    });

    await t.test("links: are made before the services start, replacing what was at the link path", async (t) => {
      const box = makeBox(t, `links:
  BOX/conf/app.conf: BOX/real.conf
services:
  svc:
    command: "readlink BOX/conf/app.conf > BOX/svc-saw; cat BOX/conf/app.conf >> BOX/svc-saw; echo saw-it; exec sleep 1000"
`);
      writeFileSync(join(box.dir, "real.conf"), "the real one\n");
      mkdirSync(join(box.dir, "conf"));
      writeFileSync(join(box.dir, "conf/app.conf"), "image default\n");
      const run = startBoxinit(mode, box.args);
      await box.waitForStatus(["running", ...FINAL]);
      t.equal(box.status(), "running");
      const link = join(box.dir, "conf/app.conf");
      t.ok(lstatSync(link).isSymbolicLink(), "the link path is a symlink");
      t.equal(readlinkSync(link), join(box.dir, "real.conf"));
      await run.waitFor(/^saw-it$/m);
      t.equal(readFileSync(join(box.dir, "svc-saw"), "utf8"), `${join(box.dir, "real.conf")}\nthe real one\n`, "the service saw the link");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
    });

    await t.test("-- CMD runs once the services are running; its code is boxinit's and the services are stopped", async (t) => {
      const box = makeBox(t, `grace: 5s
services:
  svc:
    command: "trap 'echo term > BOX/svc-term; exit 0' TERM; sleep 0.3; touch BOX/ready; while :; do sleep 0.05; done"
    warmup: {command: [test, -f, BOX/ready], interval: 50ms, timeout: 10s}
`);
      const result = await runBoxinit(mode, [...box.args, "--", "/bin/sh", "-c", `cat ${box.stateDir}/status > ${box.dir}/cmd-saw; exit 7`]);
      t.equal(result.code, 7, "the main command's code");
      t.equal(readFileSync(join(box.dir, "cmd-saw"), "utf8"), "running\n", "the main command started after running");
      t.equal(readFileSync(join(box.dir, "svc-term"), "utf8"), "term\n", "the service got its stop signal");
      t.equal(box.status(), "stopped");
      t.equal(box.statusJson()?.exitCode, 7);
      t.equal(box.statusJson()?.services.svc.state, "stopped");
    });

    await t.test("a warm-up that times out fails the boot with 69", async (t) => {
      const port = await freePort();
      const box = makeBox(t, `services:
  svc:
    command: "exec sleep 1000"
    warmup: {http: "http://127.0.0.1:${port}/", interval: 50ms, timeout: 300ms}
`);
      t.equal(await httpGet(port), "ECONNREFUSED", `nothing listens on ${port}`);
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69, "EX_UNAVAILABLE");
      t.equal(box.status(), "failed");
      t.match(result.stderr, /service svc: warm-up did not pass within 300ms \(\d+ tries; last: connection refused\)/);
    });

    await t.test("a warm-up that times out with on_timeout: continue lets the box run", async (t) => {
      const port = await freePort();
      const box = makeBox(t, `services:
  svc:
    command: "exec sleep 1000"
    warmup: {http: "http://127.0.0.1:${port}/", interval: 50ms, timeout: 300ms, on_timeout: continue}
`);
      t.equal(await httpGet(port), "ECONNREFUSED", `nothing listens on ${port}`);
      const run = startBoxinit(mode, box.args);
      const seen = await box.waitForStatus(["running", ...FINAL]);
      t.equal(seen.at(-1), "running");
      t.ok(seen.includes("warming"), "it was warming first");
      t.ok(await run.waitFor(/warm-up did not pass within 300ms .*on_timeout: continue/, "stderr", 5000), "the log says it went on without the warm-up");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      t.equal(box.status(), "stopped");
    });
  });
}

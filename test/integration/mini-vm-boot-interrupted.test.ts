// Mini-VM boots that do not reach `running`, on the real binary as PID 1 and
// as subreaper: the documented exit 69 (EX_UNAVAILABLE) for a link that
// cannot be made and for a dependency that never came up (nothing after it
// is started), and backoff engaged while the box is still `starting` (an init
// script runs) or `warming` (a warm-up that would never pass): the box stops
// what it started, ends `backedoff` and exits 0.
import t from "tap";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";
import { assertLogOrder } from "../helpers/log-order.ts";
import { waitFor } from "../helpers/wait-for.ts";

t.teardown(killAllRuns);

const JSON_LOG = ["--log-format", "json"];

/** Resolve once `check` is true, else fail at the deadline. */
for (const mode of MODES) {
  t.test(`${mode}: a boot that does not reach running`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("a link that cannot be made (a directory at the link path): 69, failed, no service started", async (t) => {
      const box = makeBox(t, `links:
  BOX/conf/server.xml: STATE/server.xml
services:
  app: {command: [/bin/sh, -c, "touch BOX/app-started; exec sleep 1000"]}
`);
      // What a half-done image can hold: a directory where the link should go.
      mkdirSync(join(box.dir, "conf", "server.xml"), { recursive: true });
      const result = await runBoxinit(mode, [...JSON_LOG, ...box.args]);
      t.equal(result.code, 69, "EX_UNAVAILABLE: the box could not be brought up");
      assertLogOrder(t, result.stderr, [
        { msg: /^links: \S+\/conf\/server\.xml -> \S+\/server\.xml: EISDIR/, event: "link" },
        { msg: /^stopping: boot failed: links: \S+\/conf\/server\.xml/ },
        { msg: "state failed" },
      ], "the link's problem is logged, then the boot stops on it");
      t.notMatch(result.stderr, /started service/, "no service was started");
      t.notOk(existsSync(join(box.dir, "app-started")));
      t.equal(box.status(), "failed");
      t.match(box.statusJson(), { state: "failed", exitCode: 69 });
    });

    await t.test("a dependency that never came up (it cannot be run): 69, failed, the service after it is never started", async (t) => {
      const box = makeBox(t, `services:
  db: {command: [BOX/no-such-db], critical: false}
  app: {command: [/bin/sh, -c, "touch BOX/app-started; exec sleep 1000"], after: [db]}
`);
      const result = await runBoxinit(mode, [...JSON_LOG, ...box.args]);
      t.equal(result.code, 69, "EX_UNAVAILABLE, not db's own 127: db was not critical, app could not start without it");
      assertLogOrder(t, result.stderr, [
        { msg: /^service db: cannot start/ },
        { msg: "stopping: boot failed: service app comes after db, which did not come up" },
        { msg: "state failed" },
      ], "db fails to start, and the boot stops naming app's dependency");
      t.notMatch(result.stderr, /started service app/);
      t.notOk(existsSync(join(box.dir, "app-started")), "app never ran");
      t.match(box.statusJson(), { state: "failed", exitCode: 69, services: { app: { state: "stopped" } } });
    });

    await t.test("a dependency whose warm-up never passes: 69, failed, the service after it is never started", async (t) => {
      const box = makeBox(t, `services:
  db:
    command: [/bin/sh, -c, "exec sleep 1000"]
    critical: false
    warmup: {command: [/bin/false], interval: 50ms, timeout: 300ms}
  app: {command: [/bin/sh, -c, "touch BOX/app-started; exec sleep 1000"], after: [db]}
`);
      const result = await runBoxinit(mode, [...JSON_LOG, ...box.args]);
      t.equal(result.code, 69);
      assertLogOrder(t, result.stderr, [
        { msg: "state warming" },
        { msg: /^service db: warm-up did not pass within 300ms/ },
        { msg: /^stopping: boot failed: service db: warm-up did not pass/ },
        { msg: "sent SIGTERM to service db" },
        { msg: "state failed" },
      ], "the warm-up times out, the boot stops, db is stopped");
      t.notOk(existsSync(join(box.dir, "app-started")), "app never ran");
      t.match(box.statusJson(), { state: "failed", exitCode: 69 });
    });

    await t.test("backoff engaged while starting (an init script runs): it is stopped, nothing else starts, backedoff, exit 0", async (t) => {
      const box = makeBox(t, `services:\n  app: {command: [/bin/sh, -c, "touch BOX/app-started; exec sleep 1000"]}\n`);
      const running = join(box.dir, "init-running");
      box.script("init.d/10-slow", `touch ${running}\nwhile :; do sleep 0.02; done\n`);
      const run = startBoxinit(mode, [...JSON_LOG, ...box.args]);
      await waitFor("the init script to run", () => existsSync(running), 15_000, 10);
      t.equal(box.status(), "starting", "the box is starting");
      box.setBackoff("true\n");
      const ended = await run.result();
      t.equal(ended.code, 0, "a requested stop in which nothing had to be killed");
      assertLogOrder(t, run.stderr, [
        { msg: /^running init script \S+10-slow$/ },
        { msg: "stopping: backoff engaged" },
        { msg: "signalled the init script's process group", signal: "SIGTERM" },
        { msg: "state backedoff" },
      ], "the backoff stops the boot: the init script gets TERM");
      t.notMatch(run.stderr, /started service|"event":"killed"/, "no service started, nothing killed");
      t.notOk(existsSync(join(box.dir, "app-started")));
      t.equal(box.status(), "backedoff");
      t.match(box.statusJson(), { state: "backedoff", exitCode: 0, backoff: true });
    });

    await t.test("backoff engaged while warming (a warm-up that would never pass): the service is stopped, backedoff, exit 0", async (t) => {
      const box = makeBox(t, `services:
  app:
    command: [/bin/sh, -c, "trap 'echo app-TERM; exit 0' TERM; echo app-up; while :; do sleep 0.05; done"]
    warmup: {command: [/bin/false], interval: 50ms, timeout: 10m}
`);
      const run = startBoxinit(mode, [...JSON_LOG, ...box.args]);
      const seen = await box.waitForStatus(["warming", "running", "stopped", "backedoff", "failed"]);
      t.equal(seen.at(-1), "warming", "the box is warming");
      box.setBackoff("true\n");
      const ended = await run.result();
      t.equal(ended.code, 0);
      assertLogOrder(t, run.stderr, [
        { msg: "state warming" },
        { msg: "stopping: backoff engaged" },
        { msg: "sent SIGTERM to service app" },
        { msg: "service app stopped" },
        { msg: "state backedoff" },
      ], "the backoff stops the warm-up and the service");
      t.notMatch(run.stderr, /"msg":"state running"/, "the box was never running");
      t.match(run.stdout, /^app-TERM$/m, "the service got its stop signal");
      t.match(box.statusJson(), { state: "backedoff", exitCode: 0, services: { app: { state: "stopped" } } });
    });
  });
}

// Mini-VM mode, the one shutdown budget with services: reverse start order,
// finish scripts after the services, SIGKILL for a service that ignores its
// stop signal (and the budget still left for the others), stop_signal, daemons
// left behind, and signals that are forwarded rather than stopping anything.
import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, ROOT, fixture, killAllRuns, missingPrerequisite, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const FIX = join(ROOT, "test/fixtures/mini-vm-b");

// From just before the stop signal to the final state's `since` in status.json:
// boxinit's own clock, so the runner's load (process exit, pipes) does not count.
const stopTookMs = (box: Box, sentAt: number): number => Date.parse(String(box.statusJson()?.since)) - sentAt;

for (const mode of MODES) {
  t.test(`${mode}: Mini-VM shutdown`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("SIGTERM stops services in reverse start order, then finish scripts, then exits 0", async (t) => {
      // b is started after a, so it has to be stopped before a.
      const box = makeBox(t, [
        "grace: 5s",
        "services:",
        `  b: {command: [${FIX}/term-logger.sh, b, BOX/order], after: [a]}`,
        `  a: {command: [${FIX}/term-logger.sh, a, BOX/order]}`,
        "",
      ].join("\n"));
      // The finish script records what had stopped by the time it ran.
      box.script("finish.d/10-x", `cat ${join(box.dir, "order")} > ${join(box.dir, "finish-saw")}\n`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^a \| a ready$/m);
      await run.waitFor(/^b \| b ready$/m);
      await box.waitForStatus("running");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0, "every service stopped in time: exit 0");
      t.equal(box.status(), "stopped");
      const stops = run.stdout.split("\n").filter((line) => / got TERM$/.test(line));
      t.same(stops, ["b | b got TERM", "a | a got TERM"], "stdout: b was stopped before a, each line prefixed with its service");
      t.equal(readFileSync(join(box.dir, "order"), "utf8"), "b got TERM\na got TERM\n", "the stops happened in that order");
      t.equal(readFileSync(join(box.dir, "finish-saw"), "utf8"), "b got TERM\na got TERM\n", "the finish script ran after both had stopped");
      const log = run.stderr;
      t.ok(log.indexOf("service b stopped") < log.indexOf("sent SIGTERM to service a"), "a got its signal only once b had stopped");
      t.ok(log.indexOf("service a stopped") < log.indexOf("running finish script"), "the finish script ran after a stopped");
      t.match(box.statusJson(), { state: "stopped", exitCode: 0, services: { a: { state: "stopped" }, b: { state: "stopped" } } });
      t.notMatch(log, /killed|phase-overran/);
    });

    await t.test("a service that ignores TERM is killed within the budget; the other still gets its TERM; exit 137", async (t) => {
      // good starts first, so it is stopped after stubborn: it must still get TERM and its time.
      const box = makeBox(t, [
        "grace: 2s",
        "services:",
        `  good: {command: [${FIX}/term-logger.sh, good, BOX/order]}`,
        `  stubborn: {command: [${FIX}/ignore-term.sh, stubborn], after: [good]}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^good \| good ready$/m);
      await run.waitFor(/^stubborn \| stubborn ready$/m);
      await box.waitForStatus("running");
      const sentAt = Date.now();
      await run.signal("SIGTERM");
      const ended = await run.result();
      const tookMs = stopTookMs(box, sentAt);
      t.equal(ended.code, 137, "something had to be killed: 128 + SIGKILL");
      t.ok(tookMs <= 2000 + 1000, `the final state was written within grace + 1 s (took ${tookMs} ms)`);
      t.ok(tookMs >= 500, `stubborn was given a real part of the budget before SIGKILL, not killed at once (took ${tookMs} ms)`);
      t.match(run.stderr, /phase-overran: service stubborn did not stop in time service=stubborn phase=services/);
      t.match(run.stderr, /killed: sent SIGKILL phase=services service=stubborn pid=\d+ comm=(sh|sleep|ignore-term\.sh)/);
      t.match(run.stderr, /sent SIGTERM to service good/);
      t.equal(readFileSync(join(box.dir, "order"), "utf8"), "good got TERM\n", "the well-behaved service got its TERM after the overrun");
      t.match(run.stdout, /^good \| good got TERM$/m, "and its last line, written just before it exited, reached stdout");
      t.ok(run.stderr.indexOf("service stubborn did not stop in time") < run.stderr.indexOf("sent SIGTERM to service good"),
        "stopped in reverse start order: stubborn, then good");
      t.equal(box.status(), "stopped");
      t.match(box.statusJson(), { exitCode: 137, services: { good: { state: "stopped" }, stubborn: { state: "stopped" } } });
    });

    await t.test("stop_signal: INT is what the service receives", async (t) => {
      const box = makeBox(t, `services:\n  echo: {command: [${fixture("signal-echo")}], stop_signal: INT}\n`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^ready$/m);
      await box.waitForStatus("running");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.match(run.stdout, /^signal INT$/m, "the service got SIGINT (2)");
      t.notMatch(run.stdout, /signal TERM/, "and not boxinit's own SIGTERM");
      t.match(run.stderr, /sent SIGINT to service echo/);
      t.equal(box.status(), "stopped");
    });

    await t.test("a daemon left behind by a service gets TERM in the final phase and cleans up", async (t) => {
      const box = makeBox(t, `grace: 5s\nservices:\n  app: {command: [${FIX}/daemon-left.sh, BOX/cleaned]}\n`);
      const marker = join(box.dir, "cleaned");
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^daemon-ready$/m);
      await box.waitForStatus("running");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0, "nothing had to be killed");
      t.ok(existsSync(marker), "the daemon's TERM handler ran");
      t.equal(existsSync(marker) ? readFileSync(marker, "utf8") : "", "cleaned\n");
      t.match(run.stderr, /sent SIGTERM to the processes left count=[1-9]/);
      t.ok(run.stderr.indexOf("service app stopped") < run.stderr.indexOf("sent SIGTERM to the processes left"),
        "the daemon got TERM after the service itself had stopped");
      t.notMatch(run.stderr, /killed|phase-overran/);
      t.equal(box.status(), "stopped");
    });

    await t.test("a daemon left behind that ignores TERM is killed at the deadline: 137, phase remaining", async (t) => {
      const box = makeBox(t, `grace: 1s\nservices:\n  app: {command: [${FIX}/daemon-stubborn.sh]}\n`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^daemon-ready$/m);
      await box.waitForStatus("running");
      const sentAt = Date.now();
      await run.signal("SIGTERM");
      const ended = await run.result();
      const tookMs = stopTookMs(box, sentAt);
      t.equal(ended.code, 137);
      t.ok(tookMs <= 1000 + 1000, `the final state was written within grace + 1 s (took ${tookMs} ms)`);
      t.match(run.stderr, /sent SIGTERM to the processes left count=1 /);
      t.match(run.stderr, /phase-overran: .* phase=remaining/);
      t.match(run.stderr, /killed: sent SIGKILL pid=\d+ comm=sleep/);
      t.notMatch(run.stderr, /killed: .*service=app/, "the service itself stopped on its TERM");
      t.equal(box.status(), "stopped");
    });

    await t.test("SIGINT and SIGQUIT start the same orderly stop (the services get their stop signal)", async (t) => {
      for (const signal of ["SIGINT", "SIGQUIT"] as const) {
        const box = makeBox(t, `services:\n  a: {command: [${FIX}/term-logger.sh, a, BOX/order]}\n  b: {command: [${FIX}/term-logger.sh, b, BOX/order], after: [a]}\n`);
        const run = startBoxinit(mode, box.args);
        await run.waitFor(/^a \| a ready$/m);
        await run.waitFor(/^b \| b ready$/m);
        await box.waitForStatus("running");
        await run.signal(signal);
        const ended = await run.result();
        t.equal(ended.code, 0, `${signal}: exit 0`);
        t.match(run.stderr, `stopping: received ${signal}`);
        t.equal(readFileSync(join(box.dir, "order"), "utf8"), "b got TERM\na got TERM\n", `${signal}: b, then a, each with TERM`);
        t.equal(box.status(), "stopped");
      }
    });

    await t.test("SIGHUP and SIGUSR1 are forwarded to the service and do not stop anything", async (t) => {
      const box = makeBox(t, `services:\n  echo: {command: [${fixture("signal-echo")}]}\n`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^ready$/m);
      await box.waitForStatus("running");
      await run.signal("SIGHUP");
      await run.waitFor(/^signal HUP$/m);
      await run.signal("SIGUSR1");
      await run.waitFor(/^signal USR1$/m);
      t.equal(box.status(), "running", "still running");
      t.match(box.statusJson(), { state: "running", services: { echo: { state: "running", restarts: 0 } } });
      t.notMatch(run.stderr, /stopping/, "no stop was started");
      t.equal(run.child.exitCode, null, "boxinit is still there");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.same(run.stdout.split("\n").filter((line) => line.startsWith("signal ")), ["signal HUP", "signal USR1", "signal TERM"],
        "the service saw HUP (1), USR1 (10), then TERM from the stop, once each");
    });

    await t.test("--rewrite applies to forwarded signals: HUP:USR1 sends USR1, USR2:0 drops USR2", async (t) => {
      const box = makeBox(t, `services:\n  echo: {command: [${fixture("signal-echo")}]}\n`);
      const run = startBoxinit(mode, [...box.args, "--rewrite", "HUP:USR1", "--rewrite", "USR2:0"]);
      await run.waitFor(/^ready$/m);
      await box.waitForStatus("running");
      await run.signal("SIGHUP");
      await run.waitFor(/^signal USR1$/m);
      await run.signal("SIGUSR2");
      // WINCH has no rule: it is forwarded as it is, after the dropped USR2.
      await run.signal("SIGWINCH");
      await run.waitFor(/^signal WINCH$/m);
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.same(run.stdout.split("\n").filter((line) => line.startsWith("signal ")), ["signal USR1", "signal WINCH", "signal TERM"],
        "USR1 for HUP, nothing for USR2, WINCH unchanged, then the stop");
    });

    await t.test("with several services, a forwarded signal reaches every one of them", async (t) => {
      const box = makeBox(t, `services:\n  one: {command: [${fixture("signal-echo")}]}\n  two: {command: [${fixture("signal-echo")}]}\n`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^one \| ready$/m);
      await run.waitFor(/^two \| ready$/m);
      await box.waitForStatus("running");
      await run.signal("SIGHUP");
      await run.waitFor(/^one \| signal HUP$/m);
      await run.waitFor(/^two \| signal HUP$/m);
      t.equal(box.status(), "running");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.match(run.stdout, /^one \| signal TERM$/m, "and both got the TERM of the stop");
      t.match(run.stdout, /^two \| signal TERM$/m);
      t.same(run.stdout.split("\n").filter((line) => / signal HUP$/.test(line)).length, 2, "HUP once each");
    });

    await t.test("a service stopped after one that overran still gets time before the deadline, not an instant SIGKILL", async (t) => {
      // grace 4s: stubborn ignores TERM and is killed well before the deadline; slow, stopped
      // after it, needs only 0.3 s to clean up, so the budget left is enough for it.
      const box = makeBox(t, [
        "grace: 4s",
        "services:",
        `  slow: {command: [${FIX}/slow-stop.sh, slow, BOX/cleaned]}`,
        `  stubborn: {command: [${FIX}/ignore-term.sh, stubborn], after: [slow]}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^slow \| slow ready$/m);
      await run.waitFor(/^stubborn \| stubborn ready$/m);
      await box.waitForStatus("running");
      const sentAt = Date.now();
      await run.signal("SIGTERM");
      const ended = await run.result();
      const tookMs = stopTookMs(box, sentAt);
      t.equal(ended.code, 137, "stubborn had to be killed");
      t.ok(tookMs <= 4000 + 1000, `the final state was written within grace + 1 s (took ${tookMs} ms)`);
      t.match(run.stderr, /killed: sent SIGKILL phase=services service=stubborn/);
      t.ok(existsSync(join(box.dir, "cleaned")), "slow finished its 0.3 s cleanup: it was not SIGKILLed while the budget had time left");
      t.notMatch(run.stderr, /phase-overran: service slow/, "slow is not blamed for the overrun of stubborn");
      t.notMatch(run.stderr, /killed: .*service=slow/, "slow was not SIGKILLed");
    });
  });
}

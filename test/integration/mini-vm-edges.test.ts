// Mini-VM mode at its edges: pidfiles that name the wrong process, a restart
// due while the stop runs, a stop command that only asks, a restart whose
// warm-up fails after boot, a stop that comes while an init script runs, and
// the last non-critical service ending. Each in both modes.
import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { MODES, ROOT, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const FIX = join(ROOT, "test/fixtures/services");

for (const mode of MODES) {
  t.test(`${mode}: Mini-VM edges`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("a pidfile naming a process boxinit did not start is refused, and that process is left alone", async (t) => {
      // An unrelated process of the test runner, outside boxinit's tree.
      const outsider = spawn("sleep", ["30"], { stdio: "ignore", detached: true });
      t.teardown(() => outsider.kill("SIGKILL"));
      const box = makeBox(t, [
        "services:",
        `  app: {command: "echo ${outsider.pid} > BOX/app.pid", pidfile: BOX/app.pid, pidfile_timeout: 5s}`,
        "",
      ].join("\n"));
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69, "the service could not be brought up");
      // As PID 1 the host's pid means nothing inside the namespace (usually no such process there).
      t.match(result.stderr, mode === "subreaper"
        ? /pidfile \S+app\.pid cannot be followed: pid \d+ is not a process started by this service/
        : /pidfile \S+app\.pid (cannot be followed: pid \d+ is not a process started by this service|names pid \d+, which is not running)/);
      t.equal(box.status(), "failed");
      t.equal(outsider.exitCode, null, "the outside process was not signalled");
      t.equal(outsider.signalCode, null);
    });

    await t.test("a pidfile naming boxinit itself is refused", async (t) => {
      // $PPID of the service's shell is boxinit.
      const box = makeBox(t, `services:\n  app: {command: "echo $PPID > BOX/app.pid", pidfile: BOX/app.pid}\n`);
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69);
      t.match(result.stderr, /cannot be followed: it names boxinit itself/);
      t.equal(box.status(), "failed", "boxinit survived to write its final state");
    });

    await t.test("a restart that falls due during the stop does not start the service again", async (t) => {
      const box = makeBox(t, [
        "grace: 3s",
        "services:",
        `  flaky: {command: [${FIX}/stamp-exit.sh, BOX/starts, "1"], restart: on-failure, restart_delay: 300ms}`,
        `  stubborn: {command: [${FIX}/ignore-term.sh, stubborn], after: [flaky]}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/service flaky exited with code 1; restarting in 300ms/, "stderr");
      await run.waitFor(/^stubborn \| stubborn ready$/m);
      await run.waitFor(/service flaky exited with code 1; restarting in (600ms|1\.2s)/, "stderr");
      await run.signal("SIGTERM");
      const ended = await run.result();
      const starts = readFileSync(join(box.dir, "starts"), "utf8").trim().split("\n").length;
      const stopAt = run.stderr.indexOf("stopping: received SIGTERM");
      t.ok(stopAt > 0);
      t.notMatch(run.stderr.slice(stopAt), /started service flaky/, "no start of flaky after the stop began");
      t.equal(ended.code, 137, "stubborn had to be killed");
      t.ok(starts >= 2, `flaky ran ${starts} times before the stop`);
    });

    await t.test("a stop command that returns while the service still runs is followed by the stop signal", async (t) => {
      const box = makeBox(t, `services:\n  app: {command: [${FIX}/term-logger.sh, app, BOX/stops], stop: [/bin/true]}\n`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^app ready$/m);
      await box.waitForStatus("running");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0, "the stop command's code; nothing was killed");
      t.equal(readFileSync(join(box.dir, "stops"), "utf8"), "app got TERM\n", "the service got its stop signal after the stop command");
      t.notMatch(run.stderr, /killed/);
    });

    await t.test("a warm-up that fails after a restart (box running) is a failed run, not a failed boot", async (t) => {
      // The check passes only the first time it ever runs (it counts itself), so the
      // first run comes up; that run exits 1, and the restarted run (which stays up)
      // never passes its warm-up. It is not critical: the box must keep running.
      const box = makeBox(t, [
        "services:",
        `  helper: {command: "if [ -e BOX/second ]; then exec sleep 1000; fi; touch BOX/second; sleep 0.3; exit 1", restart: on-failure, max_restarts: 1, warmup: {command: [BOX/check.sh], interval: 50ms, timeout: 600ms}, critical: false}`,
        `  keeper: {command: [${FIX}/term-logger.sh, keeper, BOX/stops]}`,
        "",
      ].join("\n"));
      box.script("check.sh", `n=$(cat ${box.dir}/checks 2>/dev/null || echo 0)\necho $((n + 1)) > ${box.dir}/checks\n[ "$n" -eq 0 ]`);
      const run = startBoxinit(mode, box.args);
      await box.waitForStatus("running");
      await run.waitFor(/service helper: warm-up did not pass within 600ms/, "stderr", 10_000);
      // Stopped as a start that did not come up: SIGTERM first (sleep ends on it), named in the log.
      await run.waitFor(/service helper: stopping what the failed start left behind: pid \d+ \(sleep\) \(SIGTERM now/, "stderr", 10_000);
      await run.waitFor(/service helper: exited with code 69 .*giving up \(the first failure of this series: exited with code 1\)/, "stderr", 10_000);
      t.notMatch(run.stderr, /killed what the failed start left behind/, "no SIGKILL was needed");
      t.equal(box.status(), "running", "the box keeps running");
      t.notMatch(run.stderr, /boot failed/);
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
    });

    await t.test("a stop during an init script stops that script before the finish scripts run", async (t) => {
      const box = makeBox(t, `services:\n  app: {command: [sleep, "1000"]}\n`);
      box.script("init.d/10-slow", `trap 'echo init-term >> ${box.dir}/order; exit 0' TERM\necho init-started\nsleep 1000 & wait`);
      box.script("finish.d/10-finish", `echo finish-run >> ${box.dir}/order`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^init-started$/m);
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.equal(readFileSync(join(box.dir, "order"), "utf8"), "init-term\nfinish-run\n", "the init script got TERM first, then the finish script ran");
      t.match(run.stderr, /signalled the init script's process group/);
    });

    await t.test("a second boxinit on a live box's state dir refuses to start; options may come before a verb", async (t) => {
      const box = makeBox(t, `services:\n  app: {command: [${FIX}/term-logger.sh, app, BOX/stops]}\n`);
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^app ready$/m);
      await box.waitForStatus("running");
      // The second one runs on the host, beside the box (as `docker exec` would inside it).
      const second = await runBoxinit("subreaper", [...box.args, "--", "sh", "-c", `echo ran > ${box.dir}/second-ran`]);
      t.equal(second.code, 2, "refused");
      t.match(second.stderr, /state directory \S+ is in use by a running boxinit \(pid \d+, state running\): nothing was started/);
      t.notOk(existsSync(join(box.dir, "second-ran")), "its command did not run");
      const status = await runBoxinit("subreaper", ["--state-dir", box.stateDir, "status"]);
      t.equal(status.code, 0, "--state-dir before the verb: the status command, not a program called status");
      t.match(status.stdout, /^state: {5}running/m);
      t.equal(box.status(), "running", "the live box's status was not touched");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
    });

    await t.test("when the last service ends for good and there is no main command, the container stops with its code", async (t) => {
      const box = makeBox(t, [
        "services:",
        `  one: {command: "exit 3", critical: false}`,
        `  two: {command: "sleep 0.3; exit 4", critical: false}`,
        "",
      ].join("\n"));
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 4, "the last one's code");
      t.match(result.stderr, /service two was the last one running: stopping/);
      t.equal(box.status(), "failed");
      t.notOk(existsSync(join(box.dir, "never")));
    });
  });
}

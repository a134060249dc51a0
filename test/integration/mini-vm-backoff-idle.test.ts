// Backoff in a Pod on the built binary, as PID 1 and as subreaper: the file
// lies in a kubelet-style ConfigMap directory of its own (backoff.file), and
// an update (a new ..TIMESTAMP/, ..data_tmp renamed over ..data) is seen by
// the inotify watch of that directory. on_engage idle: the services stop, the
// box is `backedoff` without an exit code while PID 1 stays up (heartbeat on,
// health --live passes, --ready fails); a release boots it again (init
// scripts again, the service restarted with a new pid); SIGTERM while idle
// exits 0. on_engage exit (the default) still ends the container. A
// STATE_DIR/backoff symlink into a ConfigMap elsewhere is seen as fast. A
// tini-style run follows BOXINIT_BACKOFF_FILE and refuses idle.
import t, { type Test } from "tap";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { MODES, boxinitTool, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit, type BoxinitRun } from "../helpers/boxinit.ts";
import { makeKubeletVolume, type KubeletVolume } from "../helpers/kubelet-volume.ts";
import { loggedAt, makeBox, waitForJson, type Box } from "../helpers/mini-vm.ts";
import { stateDirReader } from "../helpers/state-dir.ts";
import { tempDir } from "../helpers/temp-dir.ts";

t.teardown(killAllRuns);

const FINAL = ["stopped", "failed"];
// inotify mode re-reads the file every 5 s anyway: a reaction well within
// that, by boxinit's own log time, shows the ..data swap itself was seen.
const REACTION_MS = 3000;

/** A box whose backoff file is KEY in the volume; svc records its pid and each init script run. */
const podBox = (t: Parameters<typeof makeBox>[0], volume: KubeletVolume, onEngage: "idle" | "exit"): Box => {
  const box = makeBox(t, `grace: 5s
heartbeat: 1s
backoff: {file: ${volume.path}/backoff, on_engage: ${onEngage}}
services:
  svc:
    command: "echo $$ > BOX/svc.pid; echo svc-ready; exec sleep 1000"
`);
  box.script("init.d/10-count", `echo ran >> ${box.dir}/init-runs\n`);
  return box;
};

const initRuns = (box: Box): number => (existsSync(join(box.dir, "init-runs")) ? readFileSync(join(box.dir, "init-runs"), "utf8").split("\n").filter(Boolean).length : 0);
const svcPid = (box: Box): string => readFileSync(join(box.dir, "svc.pid"), "utf8").trim();
const health = (box: Box, mode: "--live" | "--ready"): number | null => boxinitTool(["health", mode, "--state-dir", box.stateDir]).code;

// Running, and the service's shell has written its pid (status `running` only says it was started).
const awaitRunning = async (t: Test, box: Box, run: BoxinitRun, readyLines: number): Promise<string> => {
  const seen = await box.waitForStatus(["running", ...FINAL]);
  t.equal(seen.at(-1), "running", "running");
  await run.waitFor(new RegExp(Array.from({ length: readyLines }, () => "^svc-ready$").join("[\\s\\S]*"), "m"));
  return svcPid(box);
};

for (const mode of MODES) {
  t.test(`${mode}: backoff in a ConfigMap directory`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    t.teardown(killAllRuns);

    await t.test("idle: a ..data swap stops the service and PID 1 stays up; a release boots again; SIGTERM while idle exits 0", async (t) => {
      const volume = makeKubeletVolume(t, { backoff: "false\n" });
      const box = podBox(t, volume, "idle");
      const run = startBoxinit(mode, ["--log-format", "json", ...box.args]);
      const firstPid = await awaitRunning(t, box, run, 1);
      t.equal(initRuns(box), 1, "the init script ran once");

      const engagedAt = Date.now();
      volume.update({ backoff: "true\n" });
      await box.waitForStatus("backedoff");
      // The status is on disk at once; boxinit's log reaches this test through a pipe it reads
      // on its own time: wait for the log lines (this one whole, for loggedAt) instead of reading stderr at once.
      await run.waitFor(/^\{[^\n]*"msg":"stopping: backoff engaged"[^\n]*\n/m, "stderr");
      const reactionMs = loggedAt(run.stderr, /^stopping: backoff engaged$/) - engagedAt;
      t.ok(reactionMs < REACTION_MS, `the stop began ${reactionMs} ms after the swap, by boxinit's log (limit ${REACTION_MS} ms: the swap was seen, not the 5 s re-read)`);
      t.notMatch(run.stderr, /cannot watch the backoff file.s directory/, "the inotify watch was used");
      const idle = box.statusJson()!;
      t.equal(idle.backoff, true, "status.json: backoff engaged");
      t.equal(idle.exitCode, undefined, "no exit code: PID 1 has not ended");
      t.equal(idle.services.svc.state, "stopped", "the service was stopped");
      t.notOk(idle.services.svc.pid, "status.json: no pid for it");
      t.ok(await run.waitFor(/sent SIGTERM to service svc/, "stderr"), "with its stop signal");
      t.equal(run.hasEnded, false, "boxinit is still running");
      await waitForJson(box, (json) => json.updatedAt !== idle.updatedAt && json.state === "backedoff", "the heartbeat advancing while idle");
      t.equal(health(box, "--live"), 0, "health --live passes while idle");
      t.equal(health(box, "--ready"), 1, "health --ready fails while idle");

      volume.update({ backoff: "false\n" });
      const seen = await box.waitForStatus(["starting", "running", ...FINAL]);
      t.not(seen.at(-1), "stopped");
      const secondPid = await awaitRunning(t, box, run, 2);
      t.not(secondPid, firstPid, "the service was started again (a new pid)");
      t.equal(initRuns(box), 2, "init scripts ran again, as on a fresh start");
      t.equal(box.statusJson()?.backoff, false);
      t.equal(health(box, "--ready"), 0, "ready again");
      // svc-ready came on stdout: that says nothing of when boxinit's stderr is read.
      t.ok(await run.waitFor(/backoff released .* booting again/, "stderr"), "the log says the release boots again");

      volume.update({ backoff: "true\n" });
      await box.waitForStatus("backedoff");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0, "SIGTERM while idle: exit 0");
      t.equal(box.status(), "backedoff");
      t.equal(box.statusJson()?.exitCode, 0, "the exit code is written as PID 1 ends");
      t.equal(initRuns(box), 2, "nothing was booted on the way out");
    });

    await t.test("idle: engaged at start, nothing starts and PID 1 stays up until released", async (t) => {
      const volume = makeKubeletVolume(t, { backoff: "true\n" });
      const box = podBox(t, volume, "idle");
      const run = startBoxinit(mode, box.args);
      await box.waitForStatus("backedoff");
      t.ok(await run.waitFor(/idle: backoff is engaged/, "stderr"), "the log says it idles");
      t.equal(box.statusJson()?.exitCode, undefined, "no exit code");
      t.equal(initRuns(box), 0, "no init script ran");
      t.notOk(existsSync(join(box.dir, "svc.pid")), "the service did not start");
      t.equal(health(box, "--live"), 0, "live");
      volume.update({ backoff: "false\n" });
      await awaitRunning(t, box, run, 1);
      t.equal(initRuns(box), 1, "booted from its init scripts");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      t.equal(box.status(), "stopped", "a stop from running ends stopped, as always");
    });

    await t.test("idle with a main command: stopped on engage, started again on release", async (t) => {
      const volume = makeKubeletVolume(t, { backoff: "false\n" });
      const box = makeBox(t, `grace: 5s\nbackoff: {file: ${volume.path}/backoff, on_engage: idle}\n`);
      const pids = join(box.dir, "main.pids");
      const run = startBoxinit(mode, [...box.args, "--", "sh", "-c", `echo $$ >> ${pids}; echo main-ready; exec sleep 1000`]);
      await run.waitFor(/^main-ready$/m);
      await box.waitForStatus("running");
      volume.update({ backoff: "true\n" });
      await box.waitForStatus("backedoff");
      t.ok(await run.waitFor(/stopping: backoff engaged/, "stderr"), "the log says backoff stopped it");
      t.equal(box.statusJson()?.exitCode, undefined, "no exit code: the main command's end did not end PID 1");
      t.equal(run.hasEnded, false, "boxinit is still running");
      volume.update({ backoff: "false\n" });
      await run.waitFor(/^main-ready$[\s\S]*^main-ready$/m);
      await box.waitForStatus("running");
      const started = readFileSync(pids, "utf8").trim().split("\n");
      t.equal(started.length, 2, "the main command ran twice");
      t.not(started[1], started[0], "a new process");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 143, "a signal stop with a main command exits with its code, as always");
      t.equal(box.status(), "stopped");
    });

    await t.test("exit (the default): a ..data swap ends the container backedoff, exit 0", async (t) => {
      const volume = makeKubeletVolume(t, { backoff: "false\n" });
      const box = podBox(t, volume, "exit");
      const run = startBoxinit(mode, box.args);
      await awaitRunning(t, box, run, 1);
      volume.update({ backoff: "true\n" });
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.equal(box.status(), "backedoff");
      t.equal(box.statusJson()?.exitCode, 0);
      t.equal(initRuns(box), 1, "nothing booted again");
    });

    await t.test("STATE_DIR/backoff linked into a ConfigMap directory elsewhere: the swap there is seen, not left to the 5 s re-read", async (t) => {
      const volume = makeKubeletVolume(t, { backoff: "false\n" });
      const box = makeBox(t, `grace: 5s
services:
  svc:
    command: "echo svc-ready; exec sleep 1000"
`);
      symlinkSync(join(volume.path, "backoff"), join(box.stateDir, "backoff"));
      const run = startBoxinit(mode, ["--log-format", "json", ...box.args]);
      await box.waitForStatus("running");
      await run.waitFor(/^svc-ready$/m);
      const engagedAt = Date.now();
      volume.update({ backoff: "true\n" });
      t.equal((await run.result()).code, 0);
      const reactionMs = loggedAt(run.stderr, /^stopping: backoff engaged$/) - engagedAt;
      t.ok(reactionMs < REACTION_MS, `the stop began ${reactionMs} ms after the swap in the linked directory (limit ${REACTION_MS} ms; the 5 s re-read took 4.2-4.5 s)`);
      t.equal(box.status(), "backedoff");
    });

    await t.test("tini-style: BOXINIT_BACKOFF_FILE is followed; BOXINIT_BACKOFF_ON_ENGAGE=idle is refused", async (t) => {
      const volume = makeKubeletVolume(t, { backoff: "false\n" });
      const stateDir = tempDir(t);
      const env = { BOXINIT_BACKOFF_FILE: join(volume.path, "backoff") };
      const run = startBoxinit(mode, ["--state-dir", stateDir, "--", "sh", "-c", "echo cmd-ready; exec sleep 1000"], { env });
      await run.waitFor(/^cmd-ready$/m);
      const reader = stateDirReader(stateDir, 5, 10_000);
      await reader.waitForStatus("running");
      volume.update({ backoff: "true\n" });
      const ended = await run.result();
      t.equal(reader.status(), "backedoff", "backed off by the ConfigMap's file");
      t.ok(run.stderr.includes(`backoff engaged (${join(volume.path, "backoff")} says true)`), "the log names the file that engaged it");
      t.equal(ended.code, 143, "the command's own code after SIGTERM, as a tini-style backoff always ends");
      const refused = await runBoxinit(mode, ["--state-dir", stateDir, "--", "true"], { env: { ...env, BOXINIT_BACKOFF_ON_ENGAGE: "idle" } });
      t.equal(refused.code, 2, "a usage error before anything starts");
      t.match(refused.stderr, /BOXINIT_BACKOFF_ON_ENGAGE: idle works in Mini-VM mode only/);
    });
  });
}

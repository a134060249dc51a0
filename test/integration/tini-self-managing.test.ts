// The tini-style run (`boxinit -- CMD`, no config) with a state directory is
// self-managing (issue 14): status/status.json follow the command, the side
// commands (`status`, `health --live/--ready`) work on it, backoff stops the
// command with the stop signal (rewritten by --rewrite) and ends `backedoff`
// with its code, backoff engaged before start runs nothing. Without a state
// directory nothing is written and nothing is watched. On the real binary,
// as PID 1 and as subreaper; the state directory is always a temporary one
// (--state-dir or BOXINIT_STATE_DIR), never the host's /docker.
import t from "tap";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { MODES, boxinitTool, fixture, killAllRuns, missingPrerequisite, ownPid, sleep, startBoxinit, type BoxinitRun, type Mode } from "../helpers/boxinit.ts";
import { makeBox, waitForJson, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

// The runner's own settings must not decide the mode or the box.
const CLEAN_ENV = {
  BOXINIT_CONFIG: undefined, BOXINIT_STATE_DIR: undefined, BOXINIT_INIT_DIR: undefined, BOXINIT_FINISH_DIR: undefined,
  BOXINIT_HEARTBEAT: undefined, BOXINIT_BACKOFF_WATCH: undefined, BOXINIT_BACKOFF_POLL_INTERVAL: undefined,
};

// A command that says it runs, then ends with the code it reads on stdin.
const EXIT_WITH_CODE_READ = ["/bin/sh", "-c", "echo ready; read code; exit $code"];
// A command that ends with 7 on SIGTERM (and says so); its sleep is in the same process group.
const EXIT_7_ON_TERM = ["/bin/sh", "-c", "trap 'echo got-TERM; exit 7' TERM; echo ready; sleep 1000 & wait"];

/** Whether boxinit holds an inotify instance (a watch on a directory) now. */
const hasInotify = async (run: BoxinitRun): Promise<boolean> => {
  const pid = await run.boxinitPid();
  return readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:inotify";
    } catch {
      return false; // closed meanwhile
    }
  });
};

/** Poll until boxinit holds an inotify instance; false at the deadline. */
const waitForInotify = async (run: BoxinitRun, timeoutMs = 5000): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await hasInotify(run))) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
};

const start = (mode: Mode, box: Box, args: readonly string[], command: readonly string[], env: NodeJS.ProcessEnv = {}): BoxinitRun =>
  startBoxinit(mode, ["--state-dir", box.stateDir, ...args, "--", ...command], { env: { ...CLEAN_ENV, ...env }, cwd: box.dir, stdin: "pipe" });

for (const mode of MODES) {
  t.test(`${mode}: self-managing tini-style run`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    if (existsSync("/docker")) return t.fail("/docker exists on this machine: the plain runs here would be self-managing; remove it to run this test");

    await t.test("status follows the command: running (with heartbeat), then stopped with its code; status and health on it", async (t) => {
      const box = makeBox(t, "");
      const run = start(mode, box, [], EXIT_WITH_CODE_READ, { BOXINIT_HEARTBEAT: "200ms" });
      await run.waitFor(/^ready$/m);
      const running = await waitForJson(box, (json) => json.state === "running", "running");
      t.equal(running.pid, await ownPid(run), "boxinit's own pid");
      t.equal(running.heartbeatMs, 200);
      t.equal(running.backoff, false);
      t.notOk("exitCode" in running, "no exit code while it runs");
      t.same(running.services, {}, "Mini-VM's shape: a box whose only work is the command");
      t.same(running.jobs, {});
      t.same(await box.waitForStatus("running"), ["running"], "status says it too (written right after status.json)");
      await run.waitFor(/self-managing: status written and backoff followed here/, "stderr");
      t.notMatch(run.stderr, /Mini-VM mode/, "not Mini-VM mode: --state-dir alone does not choose it");

      const beat = await waitForJson(box, (json) => json.state === "running" && json.updatedAt !== running.updatedAt, "a heartbeat");
      t.equal(beat.since, running.since, "the heartbeat refreshes updatedAt, not the state's since");

      const human = boxinitTool(["status", "--state-dir", box.stateDir], CLEAN_ENV);
      t.equal(human.code, 0);
      t.match(human.stdout, /^state: +running since /m);
      const json = boxinitTool(["status", "--state-dir", box.stateDir, "--json"], CLEAN_ENV);
      t.equal(json.code, 0);
      t.equal(JSON.parse(json.stdout).state, "running");
      for (const probe of ["--ready", "--live"]) {
        const health = boxinitTool(["health", probe, "--state-dir", box.stateDir], CLEAN_ENV);
        t.equal(health.code, 0, `health ${probe} passes while the command runs: ${health.stdout}`);
      }
      t.equal(boxinitTool(["health", "--state-dir", box.stateDir], CLEAN_ENV).code, 0, "health (the HEALTHCHECK's form) too");

      run.child.stdin!.end("0\n");
      t.equal((await run.result()).code, 0);
      const seen = await box.waitForStatus("stopped");
      t.same(seen.filter((word) => !["running", "stopping", "stopped"].includes(word)), [], `only running, stopping, stopped seen: ${seen.join(" → ")}`);
      const stopped = box.statusJson()!;
      t.equal(stopped.exitCode, 0);
      for (const probe of ["--ready", "--live"]) {
        t.equal(boxinitTool(["health", probe, "--state-dir", box.stateDir], CLEAN_ENV).code, 1, `health ${probe} fails once it has ended`);
      }
    });

    await t.test("the command ends non-zero on its own: failed, with its code", async (t) => {
      const box = makeBox(t, "");
      const run = start(mode, box, [], EXIT_WITH_CODE_READ);
      await run.waitFor(/^ready$/m);
      await waitForJson(box, (json) => json.state === "running", "running");
      run.child.stdin!.end("5\n");
      t.equal((await run.result()).code, 5);
      await box.waitForStatus("failed");
      t.equal(box.statusJson()!.exitCode, 5);
    });

    await t.test("the command cannot be started: failed with 127, nothing ran", async (t) => {
      const box = makeBox(t, "");
      const run = start(mode, box, [], ["/nonexistent/command"]);
      t.equal((await run.result()).code, 127);
      t.equal(box.status(), "failed");
      t.equal(box.statusJson()!.exitCode, 127);
    });

    await t.test("SIGTERM to boxinit (docker stop): the command gets it once, stopped with its code", async (t) => {
      const box = makeBox(t, "");
      const run = start(mode, box, [], [fixture("signal-echo")]);
      await run.waitFor(/^ready$/m);
      await waitForJson(box, (json) => json.state === "running", "running");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0, "signal-echo exits 0 after TERM");
      t.equal(run.stdout.match(/^signal /gm)?.length, 1, `one signal: ${run.stdout}`);
      t.match(run.stdout, /^signal TERM$/m);
      t.equal(box.status(), "stopped");
      t.equal(box.statusJson()!.exitCode, 0);
    });

    await t.test("an internal fault (waitid denied by seccomp, as in internal-fault.test.ts): failed, 70", async (t) => {
      const denySyscall = fixture("deny-syscall");
      if (!existsSync(denySyscall)) return t.fail(`${denySyscall} is missing: run "make fixtures" first`);
      const box = makeBox(t, "");
      const run = startBoxinit(mode, ["--state-dir", box.stateDir, "--grace", "3s", "--", fixture("signal-echo")], {
        env: CLEAN_ENV, cwd: box.dir, execThrough: [denySyscall, "waitid", "22"],
      });
      t.equal((await run.result(40_000)).code, 70);
      t.match(run.stderr, /internal-error: uncaught exception: NativeError: waitid: EINVAL/);
      t.equal(box.status(), "failed");
      t.equal(box.statusJson()!.exitCode, 70);
    });

    await t.test("backoff engaged while running: SIGTERM to the command, backedoff, boxinit exits with the command's code", async (t) => {
      const box = makeBox(t, "");
      const run = start(mode, box, [], EXIT_7_ON_TERM);
      await run.waitFor(/^ready$/m);
      await waitForJson(box, (json) => json.state === "running", "running");
      box.setBackoff("true\n");
      t.equal((await run.result()).code, 7, "the command's code");
      t.match(run.stdout, /^got-TERM$/m);
      t.match(run.stderr, /backoff engaged .*: stopping the command/);
      const json = box.statusJson()!;
      t.equal(json.state, "backedoff");
      t.equal(json.exitCode, 7);
      t.equal(json.backoff, true);
    });

    await t.test("backoff with --rewrite TERM:QUIT: the command gets QUIT only", async (t) => {
      const box = makeBox(t, "");
      const run = start(mode, box, ["--rewrite", "TERM:QUIT"], [fixture("signal-echo")]);
      await run.waitFor(/^ready$/m);
      await waitForJson(box, (json) => json.state === "running", "running");
      box.setBackoff("true");
      t.equal((await run.result()).code, 0);
      t.equal(run.stdout.match(/^signal /gm)?.length, 1, `one signal: ${run.stdout}`);
      t.match(run.stdout, /^signal QUIT$/m);
      t.equal(box.status(), "backedoff");
    });

    await t.test("backoff with --remap-exit: the command's code remapped, in the exit and in status.json", async (t) => {
      const box = makeBox(t, "");
      const run = start(mode, box, ["--remap-exit", "7:0"], EXIT_7_ON_TERM);
      await run.waitFor(/^ready$/m);
      await waitForJson(box, (json) => json.state === "running", "running");
      box.setBackoff("true\n");
      t.equal((await run.result()).code, 0);
      t.equal(box.status(), "backedoff");
      t.equal(box.statusJson()!.exitCode, 0);
    });

    await t.test("backoff engaged before start: nothing runs, backedoff, exit 0 (remapped)", async (t) => {
      const box = makeBox(t, "");
      box.setBackoff("true\n");
      const marker = join(box.dir, "ran");
      const quiet = start(mode, box, [], ["/bin/sh", "-c", `touch ${marker}`]);
      t.equal((await quiet.result()).code, 0);
      t.notOk(existsSync(marker), "the command never ran");
      t.match(quiet.stderr, /backoff is engaged .*: starting nothing/);
      const json = box.statusJson()!;
      t.equal(json.state, "backedoff");
      t.equal(json.exitCode, 0);
      t.equal(json.backoff, true);
      const remapped = start(mode, box, ["--remap-exit", "0:3"], ["/bin/sh", "-c", `touch ${marker}`]);
      t.equal((await remapped.result()).code, 3);
      t.notOk(existsSync(marker));
      t.equal(box.statusJson()!.exitCode, 3);
    });

    await t.test("BOXINIT_STATE_DIR alone makes it self-managing too", async (t) => {
      const box = makeBox(t, "");
      const run = startBoxinit(mode, ["--", ...EXIT_WITH_CODE_READ], { env: { ...CLEAN_ENV, BOXINIT_STATE_DIR: box.stateDir }, cwd: box.dir, stdin: "pipe" });
      await run.waitFor(/^ready$/m);
      await waitForJson(box, (json) => json.state === "running", "running");
      t.ok(await waitForInotify(run), "the backoff watch is an inotify watch");
      run.child.stdin!.end("0\n");
      t.equal((await run.result()).code, 0);
      t.equal(box.status(), "stopped");
    });

    await t.test("no state directory: no status written, no watch, no box at all", async (t) => {
      const box = makeBox(t, "");
      const before = readdirSync(box.stateDir);
      const run = startBoxinit(mode, ["--", ...EXIT_WITH_CODE_READ], { env: CLEAN_ENV, cwd: box.dir, stdin: "pipe" });
      await run.waitFor(/^ready$/m);
      t.notOk(await hasInotify(run), "no inotify instance in boxinit");
      run.child.stdin!.end("0\n");
      t.equal((await run.result()).code, 0);
      t.notMatch(run.stderr, /self-managing|state-dir|backoff|state /, "no box in the log");
      t.same(readdirSync(box.stateDir), before, "nothing in the unused state directory");
      t.notOk(readdirSync(box.dir).includes("status"), "nothing in the working directory");
      t.notOk(existsSync("/docker"), "the default state directory was not created");
    });

    await t.test("a state directory owned by another running boxinit (docker exec beside PID 1): left alone", async (t) => {
      const box = makeBox(t, "");
      const owner = start(mode, box, [], EXIT_WITH_CODE_READ);
      await owner.waitFor(/^ready$/m);
      const owned = await waitForJson(box, (json) => json.state === "running", "running");
      // The exec'd run is never PID 1: it runs beside the container's.
      const beside = startBoxinit("subreaper", ["--state-dir", box.stateDir, "--", "/bin/sh", "-c", "echo beside-ran"], { env: CLEAN_ENV, cwd: box.dir });
      t.equal((await beside.result()).code, 0);
      t.match(beside.stdout, /^beside-ran$/m);
      t.match(beside.stderr, /belongs to the running boxinit pid \d+ \(state running\): this run writes no status/);
      const after = box.statusJson()!;
      t.equal(after.pid, owned.pid, "the owner's status is untouched");
      t.equal(after.state, "running");
      owner.child.stdin!.end("0\n");
      t.equal((await owner.result()).code, 0);
      t.equal(box.status(), "stopped");
    });
  });
}

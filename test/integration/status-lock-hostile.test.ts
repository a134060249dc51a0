// A hostile <state_dir>/.status.lock, on the real binary as PID 1 and as
// subreaper: a FIFO (opening it must not block PID 1), a symlink (never
// followed: its target is neither created nor changed, the writes go on
// without the lock and -v says so), and another user's file that a job run
// under a third uid cannot open. In each case the box runs, a `boxinit job`
// beside it records its run in status.json, and the box stops cleanly.
import t from "tap";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, startBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const NOBODY = 65534;
const OTHER_UID = 12345;
const AS_NOBODY = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"];

/** A FIFO at path (Node has no mkfifo: coreutils' does it). */
const makeFifo = (path: string): void => {
  execFileSync("mkfifo", [path]);
};

/**
 * Run the box (one service, a 100 ms heartbeat), a job beside it once it is
 * running, then stop it; returns the box's and the job's output and codes.
 */
const boxWithJob = async (mode: Mode, box: Box, jobOptions: { execThrough?: string[] } = {}) => {
  const run = startBoxinit(mode, ["-v", ...box.args]);
  const seen = await box.waitForStatus(["running", "stopped", "failed"]);
  const job = startBoxinit(mode, ["job", "tick", "-v", "--state-dir", box.stateDir, "--", "/bin/sh", "-c", "echo tick-ran"], jobOptions);
  const jobEnded = await job.result();
  await run.signal("SIGTERM");
  const boxEnded = await run.result();
  return { seen, run, boxEnded, job, jobEnded };
};

const BOX_CONFIG = `heartbeat: 100ms\nservices:\n  app: {command: [sleep, "1000"]}\n`;
// PID 1 writes only at its state changes: between `running` and the stop, an
// unlocked job writer has status.json to itself, so its record cannot be lost
// to a concurrent PID 1 write (which an unlocked writer is not protected from).
const QUIET_BOX_CONFIG = `heartbeat: 1h\nservices:\n  app: {command: [sleep, "1000"]}\n`;

for (const mode of MODES) {
  t.test(`${mode}: a hostile .status.lock`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("a FIFO: nothing blocks on it; the box runs, the job's record lands, a clean stop", async (t) => {
      const box = makeBox(t, BOX_CONFIG);
      const lock = join(box.stateDir, ".status.lock");
      makeFifo(lock);
      const { seen, boxEnded, job, jobEnded } = await boxWithJob(mode, box);
      t.equal(seen.at(-1), "running", "the box came up: writing its status did not block on the FIFO");
      t.equal(jobEnded.code, 0, "the job ran");
      t.match(job.stdout, /^tick-ran$/m);
      t.equal(boxEnded.code, 0, "and the box stopped cleanly");
      t.match(box.statusJson(), { state: "stopped", jobs: { tick: { running: false, lastExit: 0, runs: 1 } } }, "the job's record is in status.json, kept by PID 1's later writes");
      t.ok(lstatSync(lock).isFIFO(), "the FIFO is left as it was");
    });

    for (const kind of ["dangling", "to an existing file"] as const) {
      await t.test(`a symlink (${kind}): never followed; the writes go on unlocked, and -v says so`, async (t) => {
        // Both writers go unlocked here: a PID 1 quiet between running and the stop (see QUIET_BOX_CONFIG).
        const box = makeBox(t, QUIET_BOX_CONFIG);
        const elsewhere = join(box.dir, "elsewhere");
        mkdirSync(elsewhere);
        const victim = join(elsewhere, "victim");
        if (kind === "to an existing file") {
          writeFileSync(victim, "keep\n");
          chmodSync(victim, 0o600);
        }
        const before = kind === "dangling" ? undefined : statSync(victim);
        const lock = join(box.stateDir, ".status.lock");
        symlinkSync(victim, lock);
        const { seen, run, boxEnded, job, jobEnded } = await boxWithJob(mode, box);
        t.equal(seen.at(-1), "running");
        t.equal(jobEnded.code, 0);
        t.equal(boxEnded.code, 0);
        t.match(box.statusJson(), { state: "stopped", jobs: { tick: { running: false, lastExit: 0, runs: 1 } } }, "the job's record is in status.json");
        if (before === undefined) {
          t.notOk(existsSync(victim), "the symlink's target was not created");
        } else {
          const after = statSync(victim);
          t.equal(readFileSync(victim, "utf8"), "keep\n", "the symlink's target is unchanged");
          t.same([after.mtimeMs, after.mode, after.uid], [before.mtimeMs, before.mode, before.uid], "not touched, not chmodded, not chowned");
        }
        t.ok(lstatSync(lock).isSymbolicLink(), "the symlink is left as it was");
        t.match(run.stderr, /status\.json written without its lock/, "PID 1 says its writes went unlocked");
        t.match(job.stderr, /status\.json written without its lock/, "so does the job");
      });
    }

    await t.test("another user's file (0600): a job under a third uid cannot open it, runs and records unlocked", async (t) => {
      const box = makeBox(t, QUIET_BOX_CONFIG);
      // The job runs as nobody: it must reach the state directory and write in it.
      chmodSync(box.dir, 0o755);
      chmodSync(box.stateDir, 0o777);
      const lock = join(box.stateDir, ".status.lock");
      writeFileSync(lock, "");
      chownSync(lock, OTHER_UID, OTHER_UID);
      chmodSync(lock, 0o600);
      const { seen, run, boxEnded, job, jobEnded } = await boxWithJob(mode, box, { execThrough: AS_NOBODY });
      t.equal(seen.at(-1), "running", "root's PID 1 takes the lock on another user's file");
      t.equal(jobEnded.code, 0, "the job as nobody ran");
      t.match(job.stdout, /^tick-ran$/m);
      t.match(job.stderr, /status\.json written without its lock/, "and says its record went unlocked");
      t.equal(boxEnded.code, 0);
      t.notMatch(run.stderr, /boxinit: error:/, "PID 1 logged no error");
      t.match(box.statusJson(), { state: "stopped", jobs: { tick: { running: false, lastExit: 0, runs: 1 } } }, "the job's record is in status.json");
      const after = statSync(lock);
      t.same([after.uid, after.mode & 0o777, after.size], [OTHER_UID, 0o600, 0], "the lock file is still the other user's, 0600, empty");
    });
  });
}

// A job whose harness really crashed: `boxinit job` SIGKILLed while its run
// holds the lock (not a lock file written by hand). The next run takes the
// lock over, names the dead run in its warning, and runs; a run already
// waiting with --wait gets the lock the moment the holder dies and runs too.
// On the real binary as PID 1 (the kill takes the job's namespace with it)
// and as subreaper (the command outlives its harness; the test ends it).
import t from "tap";
import { existsSync, readFileSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";
import { waitFor } from "../helpers/wait-for.ts";

t.teardown(killAllRuns);

const job = (box: Box, name: string, ...rest: string[]): string[] => ["job", name, "--state-dir", box.stateDir, ...rest];

/** Resolve once `check` is true, else fail at the deadline. */
/**
 * Start a run of `name` that holds the lock until killed: its command writes
 * its pid to BOX/NAME.cmd-pid and prints "holding". Resolves once it holds
 * the lock, with the lock file's owner record (run id and pid of the harness).
 */
const startHolder = async (t: Parameters<typeof makeBox>[0], mode: Mode, box: Box, name: string) => {
  const cmdPid = join(box.dir, `${name}.cmd-pid`);
  // As subreaper the command outlives the harness's SIGKILL: kill it at the end
  // (as PID 1 the namespace goes with its PID 1, and the pid means nothing here).
  box.killPidfileOnTeardown(cmdPid, mode);
  const holder = startBoxinit(mode, job(box, name, "--", "/bin/sh", "-c", `echo $$ > ${cmdPid}; echo holding; exec sleep 1000`));
  await holder.waitFor(/^holding$/m);
  // The lock is taken before the command is spawned: it is held now, and names its owner.
  const owner = JSON.parse(readFileSync(join(box.stateDir, "jobs", `${name}.lock`), "utf8"));
  return { holder, owner: owner as { pid: number; runId: string } };
};

/** SIGKILL the harness itself (not its command) and wait for its end. */
const crash = async (run: ReturnType<typeof startBoxinit>): Promise<void> => {
  process.kill(await run.boxinitPid(), "SIGKILL");
  await run.result();
};

for (const mode of MODES) {
  t.test(`${mode}: a job harness killed while it holds the lock`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("the next run takes the lock over from the dead run, says whose it was, and runs", async (t) => {
      const box = makeBox(t, "", "boxinit-job-crash-");
      const { holder, owner } = await startHolder(t, mode, box, "nightly");
      const blocked = await runBoxinit(mode, job(box, "nightly", "--", "touch", join(box.dir, "too-early")));
      t.equal(blocked.code, 0, "while the holder lives, a second run is skipped");
      t.match(blocked.stderr, /job nightly not run: already running/);
      t.notOk(existsSync(join(box.dir, "too-early")));

      await crash(holder);
      t.same(JSON.parse(readFileSync(join(box.stateDir, "jobs", "nightly.lock"), "utf8")), owner,
        "the harness died without a chance to clean up: its owner record is still in the lock file");

      const ran = join(box.dir, "ran");
      const next = await runBoxinit(mode, job(box, "nightly", "--", "touch", ran));
      t.equal(next.code, 0);
      t.ok(existsSync(ran), "the command ran");
      t.match(next.stderr, new RegExp(`warning: job: took over the lock of an earlier run that ended without releasing it .*run=${owner.runId}`),
        "the warning names the run that was killed");
      t.equal(readFileSync(join(box.stateDir, "jobs", "nightly.lock"), "utf8"), "", "released empty at the end");
      t.match(box.statusJson()?.jobs?.nightly, { running: false, lastResult: "ok", lastExit: 0 }, "the record is the new run's");
    });

    await t.test("a run waiting with --wait gets the lock when the holder is killed, and runs", async (t) => {
      const box = makeBox(t, "", "boxinit-job-crash-");
      const { holder, owner } = await startHolder(t, mode, box, "single");
      // Proof the waiting run tried while the lock was held: each attempt
      // reads the lock file, which moves its atime once the test has set it
      // to the epoch (relatime updates an atime older than the mtime).
      const lockFile = join(box.stateDir, "jobs", "single.lock");
      const awaitRead = async (what: string): Promise<void> => {
        utimesSync(lockFile, 0, statSync(lockFile).mtime);
        await waitFor(`${what} (atime of ${lockFile}; a noatime mount cannot show it)`, () => statSync(lockFile).atimeMs !== 0, 10_000, 10);
      };
      const firstRead = awaitRead("the waiting run's first attempt");
      const waitedMarker = join(box.dir, "waited-then-ran");
      const waiting = startBoxinit(mode, job(box, "single", "--wait", "60s", "--", "touch", waitedMarker));
      await firstRead;
      await awaitRead("the waiting run's next attempt");
      t.equal(waiting.child.exitCode, null, "the waiting run is still there, waiting");
      t.notOk(existsSync(waitedMarker), "and has not run its command");

      await crash(holder);
      const waited = await waiting.result();
      t.equal(waited.code, 0, "the waiting run ran once the holder was gone");
      t.ok(existsSync(waitedMarker), "its command ran");
      t.match(waiting.stderr, new RegExp(`took over the lock of an earlier run that ended without releasing it .*run=${owner.runId}`),
        "it took over the killed run's lock, and said so");
      t.notMatch(waiting.stderr, /not run: already running/, "it was not skipped");
    });
  });
}

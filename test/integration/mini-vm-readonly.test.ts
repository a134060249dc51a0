// A read-only state directory on the built binary (a read-only bind mount of
// it): the services still start and stop as usual, the write problem is
// logged once, and the status appears once the directory is writable again
// (status-file.ts retries). Each behaviour as PID 1 and as subreaper.
import t from "tap";
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, startBoxinit, type BoxinitRun } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const FINAL = ["stopped", "backedoff", "failed"];
const WRITE_WARNING = /warning: state-dir: cannot write status\.json: EROFS: retrying every 1000ms/;

/** How many times the warning is in the log. */
const writeWarnings = (stderr: string): number => stderr.match(new RegExp(WRITE_WARNING.source, "g"))?.length ?? 0;

/** Run a command; throws with its stderr when it fails. */
const run = (argv: readonly string[]): void => {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 10_000 });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed (${result.status ?? result.signal}): ${result.stderr}`);
};

// A bind mount that is busy (a process still holds a file there) cannot be
// unmounted at once: detach it (umount -l), the kernel drops it when it is free.
const unmount = (dir: string): void => {
  if (spawnSync("umount", [dir]).status === 0) return;
  run(["umount", "--lazy", dir]);
};

/**
 * Make `dir` a read-only bind mount of itself, unmounted in teardown (after
 * every run is killed, and before makeBox removes the directory: tap runs
 * teardowns last-registered first), even when the test fails.
 */
const mountReadOnly = (t: { teardown: (fn: () => void) => void }, dir: string): void => {
  run(["mount", "--bind", dir, dir]);
  t.teardown(() => {
    killAllRuns();
    unmount(dir);
  });
  run(["mount", "-o", "remount,bind,ro", dir]);
};

/** A one-service box whose service prints `svc-ready` once it runs, with its state directory mounted read-only. */
const readOnlyBox = (t: Parameters<typeof makeBox>[0]): Box => {
  const box = makeBox(t, `grace: 5s
services:
  svc:
    command: "echo svc-ready; exec sleep 1000"
`);
  mountReadOnly(t, box.stateDir);
  return box;
};

/** Make the state directory writable again where boxinit sees it: as PID 1 that is its own mount namespace. */
const remountWritable = async (box: Box, boxinit: BoxinitRun): Promise<void> => {
  const remount = ["mount", "-o", "remount,bind,rw", box.stateDir];
  // unshare's new mount namespace got a private copy of the bind mount: a
  // remount here would not reach it (mount_namespaces(7), propagation).
  if (boxinit.mode === "pid1") run(["nsenter", `--target=${await boxinit.boxinitPid()}`, "--mount", ...remount]);
  else run(remount);
};

for (const mode of MODES) {
  t.test(`${mode}: read-only state directory`, async (t) => {
    const missing = missingPrerequisite(mode) ?? (process.getuid?.() === 0 ? undefined : "read-only bind mounts need root");
    if (missing) return t.fail(missing);
    t.teardown(killAllRuns);

    await t.test("the service runs and stops on SIGTERM with 0; the write problem is logged once", async (t) => {
      const box = readOnlyBox(t);
      t.throws(() => writeFileSync(join(box.stateDir, "probe"), ""), { code: "EROFS" }, "the state directory is read-only");
      const boxinit = startBoxinit(mode, box.args);
      await boxinit.waitFor(/^svc-ready$/m);
      await boxinit.waitFor(WRITE_WARNING, "stderr");
      t.match(boxinit.stderr, /cannot write status\.json: EROFS: .*hint="the file system is read-only: mount a writable volume at the state directory"/, "the warning names the problem and the fix");
      await boxinit.signal("SIGTERM");
      const ended = await boxinit.result();
      t.equal(ended.code, 0, "SIGTERM: the normal exit code");
      t.match(boxinit.stderr, /boxinit exiting state=stopped code=0/, "it went through stopping to stopped");
      // running, stopping and stopped each tried a write of their own.
      t.equal(writeWarnings(boxinit.stderr), 1, "warned once, though every state change tried to write");
      t.same(readdirSync(box.stateDir), [], "nothing was written there");
    });

    await t.test("made writable while running: the retry writes the status", async (t) => {
      const box = readOnlyBox(t);
      const boxinit = startBoxinit(mode, box.args);
      await boxinit.waitFor(/^svc-ready$/m);
      await boxinit.waitFor(WRITE_WARNING, "stderr");
      t.equal(box.status(), undefined, "no status while read-only");
      await remountWritable(box, boxinit);
      // The retry runs every 1 s; the deadline leaves room for a loaded machine.
      t.equal((await box.waitForStatus(["running", ...FINAL], 10_000)).at(-1), "running", "the status appears once writable");
      t.equal(box.statusJson()?.services.svc.state, "running");
      await boxinit.waitFor(/state-dir: state directory writable again/, "stderr");
      await boxinit.signal("SIGTERM");
      t.equal((await boxinit.result()).code, 0, "SIGTERM: the normal exit code");
      t.equal(box.status(), "stopped");
      t.equal(box.statusJson()?.exitCode, 0);
      t.equal(writeWarnings(boxinit.stderr), 1, "warned once");
    });
  });
}

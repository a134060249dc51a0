// Exit 70 after an internal fault, on the real binary as PID 1 and as
// subreaper, in Mini-VM mode and with a main command. The fault is a real one from outside boxinit, not a switch in
// it: a seccomp filter (what a container runtime's profile does) makes every
// waitid(2) fail with EINVAL, so the reaper's peek at its children throws
// where no error was expected. boxinit must log it as an internal error,
// stop the box within its budget (the service gets its TERM), write the
// final state `failed` and exit 70, never crash or hang.
import t from "tap";
import { existsSync } from "node:fs";
import { MODES, fixture, killAllRuns, missingPrerequisite, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const EINVAL = 22;
const GRACE_MS = 3000;

for (const mode of MODES) {
  t.test(`${mode}: an internal fault (waitid denied by seccomp) stops the box in order and exits 70`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const denySyscall = fixture("deny-syscall");
    if (!existsSync(denySyscall)) return t.fail(`${denySyscall} is missing: run "make fixtures" first`);

    // The service (signal-echo) says "ready", then each signal it gets.
    const box = makeBox(t, `grace: ${GRACE_MS}ms\nservices:\n  app: {command: [${fixture("signal-echo")}]}\n`);
    const run = startBoxinit(mode, box.args, { execThrough: [denySyscall, "waitid", String(EINVAL)] });
    const ended = await run.result(GRACE_MS + 30_000);

    t.equal(ended.code, 70, "exit 70: an internal fault");
    t.match(run.stderr, /^boxinit: error: internal-error: uncaught exception: NativeError: waitid: EINVAL$/m, "the fault is logged as an internal error, naming the call and its errno");
    t.match(run.stderr, /stopping: internal fault/, "an orderly stop follows it");
    t.equal(box.status(), "failed", "the final state is written: failed");
    t.match(box.statusJson(), { state: "failed", exitCode: 70 });
    t.match(run.stderr, /boxinit exiting state=failed code=70/, "boxinit itself said how it ended: it did not crash");
    // The fault comes from the reaper's sweep, first on its 1 s timer: almost
    // always after the service was started. Then the service got its TERM.
    const startedAt = run.stderr.search(/started service app/);
    const faultAt = run.stderr.search(/internal-error/);
    if (startedAt !== -1 && startedAt < faultAt) {
      t.match(run.stderr, /sent SIGTERM to service app/, "the running service was stopped with its stop signal");
      t.match(run.stdout, /^signal TERM$/m, "and got it");
    } else {
      t.comment("the fault came before the service was started");
      t.notMatch(run.stderr.slice(faultAt), /started service app/, "no service is started after the fault");
    }
  });

  t.test(`${mode}: the same fault with a main command (boxinit -- CMD): the command gets TERM, exit 70`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const denySyscall = fixture("deny-syscall");
    if (!existsSync(denySyscall)) return t.fail(`${denySyscall} is missing: run "make fixtures" first`);
    const run = startBoxinit(mode, ["--grace", `${GRACE_MS}ms`, "--", fixture("signal-echo")], { execThrough: [denySyscall, "waitid", String(EINVAL)] });
    await run.waitFor(/^ready$/m);
    const ended = await run.result(GRACE_MS + 30_000);
    t.equal(ended.code, 70, "exit 70, not the command's code");
    t.match(run.stderr, /^boxinit: error: internal-error: uncaught exception: NativeError: waitid: EINVAL$/m);
    t.match(run.stderr, /signalled the main command's process group .*signal=SIGTERM/, "the stop signalled the command's group");
    t.match(run.stdout, /^signal TERM$/m, "the command got its TERM");
  });
}

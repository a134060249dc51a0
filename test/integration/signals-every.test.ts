// Issue 14: every signal 1-31 but KILL, STOP and CHLD, sent to boxinit by
// another process, reaches the main command's process group exactly once and
// brings no other signal, as PID 1 and as subreaper, without a terminal (the
// terminal case is signals-every-terminal.test.ts). One boxinit run per
// signal: a run that carried several would let one signal's loss or
// duplicate hide behind another's, and a fault-named signal that kills
// boxinit would take the rest of the list with it.
import t from "tap";
import { MODES, fixture, killAllRuns, missingPrerequisite, startBoxinit } from "../helpers/boxinit.ts";
import { SENDABLE, proveReachesCommandOnce } from "../helpers/signal-record.ts";

t.teardown(killAllRuns);

for (const mode of MODES) {
  t.test(`${mode}, no terminal: each signal sent to boxinit reaches the command exactly once`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    for (const signal of SENDABLE) {
      await t.test(`SIG${signal.name} (${signal.number})`, async (t) => {
        const run = startBoxinit(mode, ["-q", "--", fixture("signal-record")]);
        t.teardown(() => run.kill());
        await proveReachesCommandOnce(t, run, signal);
      });
    }
  });
}

// Issue 14, with a terminal: boxinit runs on a pty of its own (as under
// `docker run -it`), so its command owns the terminal's foreground; every
// signal 1-31 but KILL, STOP and CHLD sent to boxinit by another process
// still reaches the command exactly once and brings no other signal, as
// PID 1 and as subreaper. One boxinit run per signal (see signals-every.test.ts).
import t from "tap";
import { MODES, fixture, missingPrerequisite } from "../helpers/boxinit.ts";
import { BoxinitPtyRun, killAllPtyRuns } from "../helpers/pty-run.ts";
import { SENDABLE, proveReachesCommandOnce } from "../helpers/signal-record.ts";

t.teardown(killAllPtyRuns);

for (const mode of MODES) {
  t.test(`${mode}, on a terminal: each signal sent to boxinit reaches the command exactly once`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("the command owns the terminal's foreground", async (t) => {
      const run = new BoxinitPtyRun(mode, ["-q", "--", fixture("signal-record")]);
      t.teardown(() => run.kill());
      await proveReachesCommandOnce(t, run, { number: 15, name: "TERM" });
      t.match(run.stdout, /^ready .*foreground=1$/m);
    });

    for (const signal of SENDABLE) {
      await t.test(`SIG${signal.name} (${signal.number})`, async (t) => {
        const run = new BoxinitPtyRun(mode, ["-q", "--", fixture("signal-record")]);
        t.teardown(() => run.kill());
        await proveReachesCommandOnce(t, run, signal);
      });
    }
  });
}

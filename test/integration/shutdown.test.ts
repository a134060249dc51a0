// The one shutdown budget: daemons a start script left behind get SIGTERM and
// time to clean up; a command that ignores TERM is killed at the deadline.
import t from "tap";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODES, fixture, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { assertLogOrder } from "../helpers/log-order.ts";

t.teardown(killAllRuns);

// A daemon that escapes the main command's process group (setsid) and writes
// a file when TERM asks it to stop. The script goes on only once the daemon's
// trap is set (it makes ${out}.ready): a TERM before that would kill it
// outright, and an "echo" of its own could interleave with the command's
// "ready" on the shared stdout (seen under load: "readydaemon-ready").
const daemonScript = (out: string): string =>
  `setsid sh -c 'trap "sleep 0.3; echo cleaned > ${out}; exit 0" TERM; : > ${out}.ready; while :; do sleep 0.05; done' & ` +
  `while [ ! -e ${out}.ready ]; do sleep 0.01; done;`;

for (const mode of MODES) {
  t.test(`${mode}: shutdown`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const dir = mkdtempSync(join(tmpdir(), "boxinit-shutdown-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));

    await t.test("on SIGTERM a daemonized grandchild gets TERM and finishes its cleanup first", async (t) => {
      const out = join(dir, `${mode}-signal`);
      const run = startBoxinit(mode, ["--", "/bin/sh", "-c", `${daemonScript(out)} exec ${fixture("signal-echo")}`]);
      await run.waitFor(/^ready$/m);
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0, "exit code of the main command");
      t.equal(readFileSync(out, "utf8"), "cleaned\n", "the daemon's cleanup ran before boxinit exited");
      t.match(run.stderr, /sent SIGTERM to the processes left count=\d+/);
      t.notMatch(run.stderr, /killed/);
    });

    await t.test("a start script that daemonizes and exits: its daemon is stopped with TERM, not a kernel KILL", async (t) => {
      const out = join(dir, `${mode}-exit`);
      const result = await runBoxinit(mode, ["--", "/bin/sh", "-c", `${daemonScript(out)} sleep 0.2; exit 5`]);
      t.equal(result.code, 5, "the start script's own code");
      t.equal(readFileSync(out, "utf8"), "cleaned\n");
    });

    await t.test("a command that ignores TERM is killed at the grace deadline: 137", async (t) => {
      const run = startBoxinit(mode, ["--grace", "1s", "--", "/bin/sh", "-c", "trap '' TERM; echo ready; sleep 1000"]);
      await run.waitFor(/^ready$/m);
      const sentAt = Date.now();
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 137);
      t.match(run.stderr, /phase-overran: the main command did not exit within the grace period phase=main/);
      t.match(run.stderr, /killed: sent SIGKILL pid=\d+ comm=sleep/);
      t.ok(Date.now() - sentAt >= 1000, "not killed before the deadline");
    });

    await t.test("a process left behind that ignores TERM is killed at the deadline; the code stays the command's", async (t) => {
      // The command exits only once the subshell ignores TERM: exiting at once
      // let boxinit's TERM reach the subshell before its trap (seen in CI).
      const marker = join(dir, `${mode}-ignoring`);
      const result = await runBoxinit(mode, ["--grace", "500ms", "--", "/bin/sh", "-c",
        `(trap '' TERM; : > ${marker}; exec sleep 1000) & while [ ! -e ${marker} ]; do sleep 0.01; done; exit 4`]);
      t.equal(result.code, 4);
      t.match(result.stderr, /phase=remaining/);
      t.match(result.stderr, /killed: sent SIGKILL pid=\d+ comm=sleep/);
    });

    await t.test("a command that uses up the budget still leaves the daemons outside its group their SIGTERM", async (t) => {
      const out = join(dir, `${mode}-reserve`);
      // 4 s: the reserve for the processes left is then 1 s (a quarter, at
      // most 1 s). The daemon's cleanup is shell builtins, run the moment TERM
      // arrives (`wait` returns at once; its one child was forked before the
      // trap was set): a second is generous for that on any machine.
      const daemon = `setsid sh -c 'sleep 1000 & trap "echo cleaned > ${out}; exit 0" TERM; : > ${out}.ready; while :; do wait; done' & ` +
        `while [ ! -e ${out}.ready ]; do sleep 0.01; done;`;
      const run = startBoxinit(mode, ["--log-format", "json", "--grace", "4s", "--", "/bin/sh", "-c", `${daemon} trap '' TERM; echo ready; sleep 1000`]);
      await run.waitFor(/^ready$/m);
      const sentAt = Date.now();
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 137, "the main command was killed");
      t.equal(readFileSync(out, "utf8"), "cleaned\n", "the daemon got SIGTERM and finished its cleanup");
      const steps = assertLogOrder(t, run.stderr, [
        { msg: "stop requested", signal: "SIGTERM" },
        { msg: "signalled the main command's process group" },
        { msg: /^the main command did not exit in time/, event: "phase-overran", phase: "main" },
        { msg: "sent SIGKILL", event: "killed" },
        { msg: "sent SIGTERM to the processes left" },
      ], "the main command overran its part and was killed, then the daemon got its SIGTERM");
      // Its part is the budget less the reserve, 3 s (none kept would be 4 s); less
      // 0.5 s because Node times a timer from its loop's cached clock, which may lag.
      const overranAt = steps?.[2]?.timeMs;
      t.ok(overranAt !== undefined && overranAt - sentAt >= 2500, `the main command had its part of the budget first (${overranAt === undefined ? "never" : overranAt - sentAt} ms, about 3000 expected)`);
      // Whether the daemon also finished inside the reserve is a timing claim: on
      // a loaded machine the timer fires late and the /proc scans eat the reserve
      // (seen in CI: 600 ms late, SIGTERM sent with 0 ms left). The order above and
      // the daemon's cleanup are the behaviour; bench/ times the budget.
    });

    await t.test("a prompt exit ends the wait at once: no grace is spent", async (t) => {
      const run = startBoxinit(mode, ["--grace", "30s", "--", fixture("signal-echo")]);
      await run.waitFor(/^ready$/m);
      await run.signal("SIGTERM");
      const ended = await run.result(10_000);
      t.equal(ended.code, 0, "exited long before the 30 s grace");
    });
  });
}

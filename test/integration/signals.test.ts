// Signal forwarding with a signal-echo fixture: every catchable signal sent to
// boxinit reaches the main command exactly once, rewrites are applied, and
// TERM/INT/QUIT start the orderly stop.
import t from "tap";
import { spawn } from "node:child_process";
import { MODES, fixture, killAllRuns, missingPrerequisite, startBoxinit } from "../helpers/boxinit.ts";

t.teardown(killAllRuns);

// Every signal boxinit forwards as-is (the shutdown three are tested below).
const FORWARDED = [
  "HUP", "USR1", "USR2", "ALRM", "STKFLT", "CONT", "TSTP",
  "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR",
] as const;

// glibc names signal 29 POLL; Node names it SIGIO.
const echoedSignals = (stdout: string): string[] =>
  stdout.split("\n").filter((line) => line.startsWith("signal ")).map((line) => line.slice(7).replace(/^POLL$/, "IO"));

for (const mode of MODES) {
  t.test(`${mode}: signals`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("each forwarded signal arrives exactly once, in order", async (t) => {
      const run = startBoxinit(mode, ["-q", "--", fixture("signal-echo")]);
      await run.waitFor(/^ready$/m);
      for (const [i, name] of FORWARDED.entries()) {
        await run.signal(`SIG${name}`);
        await run.waitFor(new RegExp(`(?:signal \\w+\\n){${i + 1}}`));
      }
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.same(echoedSignals(run.stdout), [...FORWARDED, "TERM"]);
      t.equal(ended.code, 0, "the fixture exits 0 after TERM");
    });

    for (const name of ["TERM", "INT", "QUIT"] as const) {
      await t.test(`SIG${name} reaches the command once and stops boxinit with the command's code`, async (t) => {
        const run = startBoxinit(mode, ["--", fixture("signal-echo")]);
        await run.waitFor(/^ready$/m);
        await run.signal(`SIG${name}`);
        const ended = await run.result();
        t.same(echoedSignals(run.stdout), [name]);
        t.equal(ended.code, 0);
        t.match(run.stderr, new RegExp(`shutdown: stop requested signal=SIG${name}`));
      });
    }

    await t.test("PIPE, TTIN and TTOU are boxinit's own (kernel-raised): not forwarded, and they neither kill nor stop it", async (t) => {
      const run = startBoxinit(mode, ["-q", "--", fixture("signal-echo")]);
      await run.waitFor(/^ready$/m);
      for (const name of ["SIGPIPE", "SIGTTIN", "SIGTTOU"] as const) await run.signal(name);
      await run.signal("SIGHUP");
      await run.waitFor(/signal HUP/);
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      t.same(echoedSignals(run.stdout), ["HUP", "TERM"]);
    });

    await t.test("a signal flood while the command exits: its exit is still seen, with its code", async (t) => {
      // The flood overflows libuv's signal pipe; boxinit must lose neither the
      // command's exit nor the exit events of children Node itself spawned.
      const run = startBoxinit(mode, ["-q", "--x-selftest-spawn", "60", "--", "/bin/sh", "-c", "trap '' HUP USR2 WINCH URG; echo ready; sleep 3; exit 5"]);
      await run.waitFor(/^ready$/m);
      const pid = String(await run.boxinitPid());
      const floods = [1, 12, 28, 23].map((signal) => spawn(fixture("flood"), [pid, String(signal), "1.5"], { stdio: "ignore" }));
      t.teardown(() => { for (const flood of floods) flood.kill("SIGKILL"); });
      t.equal((await run.result(30_000)).code, 5);
      t.match(run.stderr, /spawn storm finished spawned=60 exitEvents=60 correct=60/);
    });

    await t.test("rewrites: TERM:QUIT and USR1:USR2 arrive as their rewrite, WINCH:0 is dropped", async (t) => {
      const run = startBoxinit(mode, ["-q", "--rewrite", "TERM:QUIT", "--rewrite", "SIGUSR1:12", "--rewrite", "WINCH:0", "--", fixture("signal-echo")]);
      await run.waitFor(/^ready$/m);
      await run.signal("SIGWINCH");
      await run.signal("SIGUSR1");
      await run.waitFor(/signal USR2/);
      await run.signal("SIGTERM");
      await run.result();
      t.same(echoedSignals(run.stdout), ["USR2", "QUIT"]);
    });
  });
}

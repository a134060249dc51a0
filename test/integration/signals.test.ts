// Signal forwarding with a recording fixture: the signals boxinit forwards
// arrive one after another in a single run, each exactly once; TERM/INT/QUIT
// start the orderly stop; PIPE, TTIN and TTOU sent by another process are
// forwarded like any other; rewrites apply, SYS:HUP included. Each signal on
// its own run, with and without a terminal: signals-every*.test.ts.
import t from "tap";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, fixture, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit, type Ended, type Mode } from "../helpers/boxinit.ts";
import { SENDABLE, STOP_SIGNALS, recordedSignals } from "../helpers/signal-record.ts";
import { isStopped } from "../helpers/proc.ts";
import { tempDir } from "../helpers/temp-dir.ts";

t.teardown(killAllRuns);

// As PID 1 the outer process is unshare, which ends by the same signal as its child (util-linux), or with 128+N.
const diedOfSigsys = (mode: Mode, ended: Ended): boolean =>
  ended.signal === "SIGSYS" || (mode === "pid1" && ended.code === 128 + 31);

// Every signal boxinit forwards as-is: all it may be sent but the stop three.
const FORWARDED = SENDABLE.filter(({ name }) => !STOP_SIGNALS.has(name)).map(({ name }) => name);

for (const mode of MODES) {
  t.test(`${mode}: signals`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("one run: each forwarded signal arrives exactly once, in order, and boxinit goes on", async (t) => {
      const run = startBoxinit(mode, ["-q", "--", fixture("signal-record")]);
      await run.waitFor(/^ready /m);
      for (const [i, name] of FORWARDED.entries()) {
        await run.signal(`SIG${name}` as NodeJS.Signals);
        await run.waitFor(new RegExp(`(?:^signal \\w+\\n){${i + 1}}`, "m"));
      }
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.same(recordedSignals(run.stdout), [...FORWARDED, "TERM"]);
      t.equal(ended.code, 0, "the fixture exits 0 after TERM");
    });

    for (const name of ["TERM", "INT", "QUIT"] as const) {
      await t.test(`SIG${name} reaches the command once and stops boxinit with the command's code`, async (t) => {
        const run = startBoxinit(mode, ["--", fixture("signal-record")]);
        await run.waitFor(/^ready /m);
        await run.signal(`SIG${name}`);
        const ended = await run.result();
        t.same(recordedSignals(run.stdout), [name]);
        t.equal(ended.code, 0);
        t.match(run.stderr, new RegExp(`shutdown: stop requested signal=SIG${name}`));
      });
    }

    // Issue 14: these used to be dropped as if the kernel had raised them for
    // boxinit's own I/O. Sent by another process they are messages for the
    // command. (The kernel-raised ones stay harmless: terminal.test.ts, stty
    // tostop; hardening.test.ts, a closed stderr.)
    await t.test("PIPE, TTIN and TTOU sent by another process are forwarded, and neither kill nor stop boxinit", async (t) => {
      const run = startBoxinit(mode, ["-q", "--", fixture("signal-record")]);
      await run.waitFor(/^ready /m);
      const pid = await run.boxinitPid();
      for (const [i, name] of (["PIPE", "TTIN", "TTOU"] as const).entries()) {
        await run.signal(`SIG${name}`);
        await run.waitFor(new RegExp(`(?:^signal \\w+\\n){${i + 1}}`, "m"));
        t.notOk(isStopped(pid), `boxinit is not stopped after SIG${name}`);
      }
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      t.same(recordedSignals(run.stdout), ["PIPE", "TTIN", "TTOU", "TERM"]);
    });

    // Issue 14: a *sent* SEGV/SYS/... is forwarded, but a real fault of
    // boxinit's own must still crash it. The honest real fault from outside:
    // a seccomp filter (deny-syscall NAME trap) under which one of boxinit's own system
    // calls makes the kernel raise SIGSYS (si_code SYS_SECCOMP) for it.
    await t.test("a real fault of boxinit's own still crashes it and is not forwarded: SIGSYS for its own kill(2), in the forwarding handler", async (t) => {
      const run = startBoxinit(mode, ["-q", "--", fixture("signal-record")], { execThrough: [fixture("deny-syscall"), "kill", "trap"] });
      await run.waitFor(/^ready /m);
      await run.signal("SIGUSR1"); // forwarding it calls kill(2)
      const ended = await run.result();
      t.ok(diedOfSigsys(mode, ended), "boxinit died of the SIGSYS", { ended, stderr: run.stderr });
      t.same(recordedSignals(run.stdout), [], "the command got nothing: neither the USR1 (its kill faulted) nor the SYS");
    });

    await t.test("a real fault of boxinit's own still crashes it: SIGSYS for its own waitid(2), in the reaper", async (t) => {
      const run = startBoxinit(mode, ["-q", "--", fixture("signal-record")], { execThrough: [fixture("deny-syscall"), "waitid", "trap"] });
      await run.waitFor(/^ready /m);
      await run.signal("SIGTERM"); // the command ends: boxinit's reaper calls waitid(2)
      const ended = await run.result();
      t.ok(diedOfSigsys(mode, ended), "boxinit died of the SIGSYS, not with the command's 0", { ended, stderr: run.stderr });
      t.same(recordedSignals(run.stdout), ["TERM"], "the command got its TERM and no SYS");
    });

    await t.test("a signal flood while the command exits: its exit is still seen, with its code", async (t) => {
      // The flood overflows libuv's signal pipe; boxinit must lose neither the
      // command's exit nor the exit events of children Node itself spawned.
      // The command ends only once the storm is tallied (children still
      // running when it ends are TERMed with everything left), and the floods
      // last until boxinit is gone, so the command's exit lands in one.
      const release = join(tempDir(t), "release");
      const run = startBoxinit(mode, ["-q", "--x-selftest-spawn", "60", "--", "/bin/sh", "-c", `trap '' HUP USR2 WINCH URG; echo ready; until [ -e ${release} ]; do sleep 0.05; done; exit 5`]);
      await run.waitFor(/^ready$/m);
      const pid = String(await run.boxinitPid());
      const floods = [1, 12, 28, 23].map((signal) => spawn(fixture("flood"), [pid, String(signal), "120"], { stdio: "ignore" }));
      t.teardown(() => { for (const flood of floods) flood.kill("SIGKILL"); });
      await run.waitFor(/spawn storm finished/, "stderr", 60_000);
      writeFileSync(release, "");
      t.equal((await run.result(60_000)).code, 5);
      t.match(run.stderr, /spawn storm finished spawned=60 exitEvents=60 correct=60/);
    });

    await t.test("rewrites: TERM:QUIT and USR1:USR2 arrive as their rewrite, WINCH:0 is dropped", async (t) => {
      const run = startBoxinit(mode, ["-q", "--rewrite", "TERM:QUIT", "--rewrite", "SIGUSR1:12", "--rewrite", "WINCH:0", "--", fixture("signal-record")]);
      await run.waitFor(/^ready /m);
      await run.signal("SIGWINCH");
      await run.signal("SIGUSR1");
      await run.waitFor(/^signal USR2$/m);
      await run.signal("SIGTERM");
      await run.result();
      t.same(recordedSignals(run.stdout), ["USR2", "QUIT"]);
    });

    // Issue 14: a fault-named signal sent by another process reaches the
    // rewrite table like any other (it used to be rejected, or never taken).
    await t.test("rewrites of fault-named and PIPE signals: SYS:HUP, SEGV:USR2 apply, PIPE:0 drops", async (t) => {
      const run = startBoxinit(mode, ["-q", "--rewrite", "SYS:HUP", "--rewrite", "SEGV:USR2", "--rewrite", "PIPE:0", "--", fixture("signal-record")]);
      const ready = await Promise.race([run.waitFor(/^ready /m), run.ended]);
      if (!Array.isArray(ready)) return t.fail("boxinit refused the rewrites", { stderr: run.stderr, ended: ready });
      await run.signal("SIGPIPE");
      await run.signal("SIGSYS");
      await run.waitFor(/^signal HUP$/m);
      await run.signal("SIGSEGV");
      await run.waitFor(/^signal USR2$/m);
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      t.same(recordedSignals(run.stdout), ["HUP", "USR2", "TERM"]);
    });

    await t.test("--rewrite of a signal boxinit can never take (KILL, STOP, CHLD) is a usage error", async (t) => {
      for (const value of ["KILL:TERM", "STOP:TSTP", "CHLD:HUP"]) {
        const result = await runBoxinit(mode, ["--rewrite", value, "--", "/bin/sh", "-c", "echo ran"]);
        t.equal(result.code, 2, `--rewrite ${value}: exit 2`);
        t.match(result.stderr, `--rewrite ${value}`, "the error names the value");
        t.notMatch(result.stdout, /ran/, "nothing was started");
      }
    });
  });
}

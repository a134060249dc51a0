// Issue 14, Ctrl-Z: when boxinit is not PID 1 and its command is stopped by a
// terminal stop signal, boxinit stops itself too, so the shell above sees its
// job stopped and gets the terminal back; fg (SIGCONT) resumes both. A TSTP
// sent to boxinit is forwarded, and the command's stop stops boxinit the same
// way. As PID 1 boxinit never stops itself. The ticker fixture prints a tick
// every 100 ms and reports the TSTP and CONT it gets.
import t from "tap";
import { BOXINIT, MODES, fixture, killAllRuns, missingPrerequisite, startBoxinit } from "../helpers/boxinit.ts";
import { CTRL_C, CTRL_Z, PtyRun, killAllPtyRuns } from "../helpers/pty-run.ts";
import { childrenOf, isStopped, procStat, waitUntil } from "../helpers/proc.ts";

t.teardown(killAllRuns);
t.teardown(killAllPtyRuns);

const TICKER = fixture("ticker");
const PROMPT = /jc\$ $/;

/** The ticker's pid and its parent's (boxinit's, when it runs under boxinit). */
const tickerPids = (match: RegExpMatchArray): { ticker: number; parent: number } => ({ ticker: Number(match[1]), parent: Number(match[2]) });
const TICKER_READY = /ticker pid=(\d+) ppid=(\d+)/;

/** Whether pid's process group is its terminal's foreground group. */
const ownsForeground = (pid: number): boolean => {
  const stat = procStat(pid);
  return stat !== undefined && stat.tpgid === stat.pgrp;
};

t.test("subreaper: Ctrl-Z in an interactive bash stops the command and boxinit, fg resumes both, Ctrl-C ends it", async (t) => {
  const missing = missingPrerequisite("subreaper");
  if (missing) return t.fail(missing);
  const bash = new PtyRun(["bash", "--norc", "--noprofile", "-i"], { env: { HISTFILE: "/dev/null" } });
  t.teardown(() => bash.kill());
  // An interactive bash takes its prompt from no environment variable: set one to wait for.
  await bash.waitFor(/[$#] $/);
  bash.type("PS1='jc$ '\n");
  await bash.waitFor(PROMPT);

  let mark = bash.mark();
  bash.type(`${BOXINIT} -q -- ${TICKER}\n`);
  const { ticker, parent: boxinit } = tickerPids(await bash.waitFor(TICKER_READY, { from: mark }));
  await bash.waitFor(/^tick 1$/m, { from: mark });
  t.ok(ownsForeground(ticker), "the command owns the terminal's foreground");

  // Twice: stopping and resuming must work more than once.
  for (const round of [1, 2]) {
    mark = bash.mark();
    bash.type(CTRL_Z);
    await bash.waitFor(/got TSTP$/m, { from: mark });
    await bash.waitFor(/\[1\]\+\s+Stopped/, { from: mark });
    await bash.waitFor(PROMPT, { from: mark });
    t.ok(isStopped(ticker), `round ${round}: the command is stopped`);
    t.ok(isStopped(boxinit), `round ${round}: boxinit stopped itself, so bash shows the job stopped and the prompt is back`);

    mark = bash.mark();
    bash.type("fg\n");
    const resumed = await bash.waitFor(/got CONT$/m, { from: mark });
    await bash.waitFor(/^tick \d+$/m, { from: mark + resumed.index! });
    t.notOk(isStopped(boxinit), `round ${round}: fg resumed boxinit`);
    t.notOk(isStopped(ticker), `round ${round}: fg resumed the command: it ticks again`);
    t.ok(ownsForeground(ticker), `round ${round}: the command owns the terminal's foreground again`);
  }

  mark = bash.mark();
  bash.type(CTRL_C);
  await bash.waitFor(PROMPT, { from: mark });
  bash.type("echo status=$?\n");
  const [, status] = await bash.waitFor(/status=(\d+)/, { from: mark });
  t.equal(status, "130", "the prompt returns with the command's status: 128+SIGINT");
  bash.type("exit 0\n");
  t.equal((await bash.result()).code, 0, "bash exited normally");
});

for (const mode of MODES) {
  t.test(`${mode}: a terminal stop signal sent to boxinit`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    for (const name of ["TSTP", "TTIN", "TTOU"] as const) {
      if (mode === "subreaper") {
        await t.test(`SIG${name} is forwarded, the command stops, boxinit stops too; SIGCONT to boxinit resumes both`, async (t) => {
          const run = startBoxinit(mode, ["-q", "--", TICKER]);
          t.teardown(() => run.kill());
          const { ticker } = tickerPids(await run.waitFor(TICKER_READY));
          await run.waitFor(/^tick 1$/m);
          const boxinit = await run.boxinitPid();

          await run.signal(`SIG${name}`);
          if (name === "TSTP") await run.waitFor(/^got TSTP$/m);
          await waitUntil(() => isStopped(ticker), `the command is stopped by SIG${name}`);
          await waitUntil(() => isStopped(boxinit), "boxinit stopped itself too");

          await run.signal("SIGCONT");
          await run.waitFor(/^got CONT\n(?:.*\n)*?tick \d+$/m);
          t.notOk(isStopped(boxinit), "boxinit runs again");
          t.notOk(isStopped(ticker), "the command ticks again");

          await run.signal("SIGTERM");
          t.same(await run.result(), { code: 143, signal: null }, "TERM still stops it: 128+SIGTERM");
        });
      } else {
        await t.test(`SIG${name} is forwarded and the command stops, but PID 1 does not; SIGCONT to boxinit resumes the command`, async (t) => {
          const run = startBoxinit(mode, ["-v", "--", TICKER]);
          t.teardown(() => run.kill());
          await run.waitFor(TICKER_READY);
          await run.waitFor(/^tick 1$/m);
          const boxinit = await run.boxinitPid();
          // The pid the fixture prints is the namespace's; the host's is boxinit's child.
          const ticker = await waitForChild(boxinit);

          await run.signal(`SIG${name}`);
          if (name === "TSTP") await run.waitFor(/^got TSTP$/m);
          await waitUntil(() => isStopped(ticker), `the command is stopped by SIG${name}`);
          // A WINCH forwarded afterwards (logged with -v) shows boxinit still at work.
          await run.signal("SIGWINCH");
          await run.waitFor(/signal-forwarded: .*signal=SIGWINCH/, "stderr");
          t.notOk(isStopped(boxinit), "PID 1 did not stop itself");

          await run.signal("SIGCONT");
          await run.waitFor(/^got CONT\n(?:.*\n)*?tick \d+$/m);
          t.notOk(isStopped(ticker), "the command ticks again");
          await run.signal("SIGTERM");
          t.same(await run.result(), { code: 143, signal: null }, "TERM still stops it: 128+SIGTERM");
        });
      }
    }
  });
}

/** The first child of pid, once it has one. */
const waitForChild = async (pid: number): Promise<number> => {
  let child: number | undefined;
  await waitUntil(() => (child = childrenOf(pid)[0]) !== undefined, `process ${pid} has a child`);
  return child!;
};

// Issue 14, --parent-death-signal SIG (env BOXINIT_PARENT_DEATH_SIGNAL, tini
// -p): when boxinit is not PID 1 and its parent dies, boxinit receives SIG and
// routes it like any other: TERM stops the command within the budget. The
// parent here is a shell that started boxinit in the background; the test
// SIGKILLs the shell. As PID 1 the option has nothing to watch and must not
// get in the way. Any signal 1-31 is a valid SIG (KILL too, as with tini).
import t from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { BOXINIT, fixture, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { recordedSignals } from "../helpers/signal-record.ts";
import { isGone, procStat, waitUntil, withinDeadline } from "../helpers/proc.ts";

t.teardown(killAllRuns);

/** A shell that starts boxinit in the background, says its pid, and waits for it. */
class ParentShell {
  readonly shell: ChildProcess;
  stdout = "";
  stderr = "";
  /** Resolves when every process holding the output (shell, boxinit, command) has closed it. */
  readonly closed: Promise<void>;
  isClosed = false;

  constructor(boxinitArgs: readonly string[], env: NodeJS.ProcessEnv = {}) {
    // "$@" keeps the arguments intact; `wait` keeps the shell alive as the parent.
    this.shell = spawn("/bin/sh", ["-c", '"$@" & echo "boxinit-pid=$!"; wait', "sh", BOXINIT, ...boxinitArgs], {
      env: { ...process.env, NODE_OPTIONS: undefined, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.shell.stdout!.on("data", (chunk: Buffer) => { this.stdout += chunk.toString(); });
    this.shell.stderr!.on("data", (chunk: Buffer) => { this.stderr += chunk.toString(); });
    this.closed = new Promise((resolve) => this.shell.once("close", () => { this.isClosed = true; resolve(); }));
    shells.add(this.shell);
  }

  /** Wait until stdout matches; fail at the deadline, or once everything holding the output has ended. */
  async waitFor(pattern: RegExp, what: string): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    try {
      await waitUntil(() => (match = this.stdout.match(pattern)) !== null || this.isClosed, what);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
    }
    if (match === null) throw new Error(`everything ended before ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
    return match;
  }

  /** boxinit's pid, once the command under it is ready. */
  async ready(): Promise<number> {
    const [, pid] = await this.waitFor(/boxinit-pid=(\d+)/, "the shell said boxinit's pid");
    await this.waitFor(/^ready /m, "the command is ready");
    return Number(pid);
  }

  /** SIGKILL the shell: boxinit's parent dies. */
  killShell(): void {
    this.shell.kill("SIGKILL");
  }
}

// Once the shell is dead nobody tracks boxinit for the test: a run that goes
// wrong is ended here by its pid (its command dies with it, see the fixture).
const leftovers = new Set<number>();
const shells = new Set<ChildProcess>();
t.teardown(() => {
  for (const shell of shells) shell.kill("SIGKILL");
  for (const pid of leftovers) {
    if (!isGone(pid)) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
  }
});

/** Wait until boxinit has been re-parented away from the dead shell: the kernel has then sent the parent-death signal, if armed. */
const waitForOrphaned = (pid: number, shellPid: number): Promise<void> =>
  waitUntil(() => { const stat = procStat(pid); return stat === undefined || stat.ppid !== shellPid; }, `boxinit ${pid} has left its dead parent ${shellPid}`);

t.test("subreaper: the parent's death", async (t) => {
  const missing = missingPrerequisite("subreaper");
  if (missing) return t.fail(missing);

  await t.test("--parent-death-signal TERM: boxinit stops its command with TERM and exits", async (t) => {
    const parent = new ParentShell(["--parent-death-signal", "TERM", "--", fixture("signal-record")]);
    const boxinit = await parent.ready();
    leftovers.add(boxinit);
    parent.killShell();
    await waitUntil(() => isGone(boxinit), "boxinit exits after its parent's death");
    await withinDeadline(parent.closed, "boxinit and the command have closed their output");
    t.same(recordedSignals(parent.stdout), ["TERM"], "the command got TERM once, and nothing else");
    t.match(parent.stdout, /^end$/m, "the command ended on its own");
    t.match(parent.stderr, /stop requested signal=SIGTERM/, "boxinit took it as a stop");
    t.match(parent.stderr, /boxinit exiting code=0/, "and exited with the command's code");
  });

  await t.test("BOXINIT_PARENT_DEATH_SIGNAL=USR1: the command gets USR1 and boxinit goes on", async (t) => {
    const parent = new ParentShell(["--", fixture("signal-record")], { BOXINIT_PARENT_DEATH_SIGNAL: "USR1" });
    const boxinit = await parent.ready();
    leftovers.add(boxinit);
    parent.killShell();
    await parent.waitFor(/^signal USR1$/m, "the command got USR1");
    t.notOk(isGone(boxinit), "boxinit still runs");
    process.kill(boxinit, "SIGTERM");
    await waitUntil(() => isGone(boxinit), "boxinit exits on TERM");
    await withinDeadline(parent.closed, "boxinit and the command have closed their output");
    t.same(recordedSignals(parent.stdout), ["USR1", "TERM"]);
  });

  await t.test("without the option the parent's death sends boxinit nothing", async (t) => {
    const parent = new ParentShell(["--", fixture("signal-record")]);
    const boxinit = await parent.ready();
    leftovers.add(boxinit);
    const shellPid = parent.shell.pid!;
    parent.killShell();
    await waitForOrphaned(boxinit, shellPid);
    // A marker after the re-parenting: anything the parent's death brought came before it.
    process.kill(boxinit, "SIGUSR2");
    await parent.waitFor(/^signal USR2$/m, "the command got the marker");
    process.kill(boxinit, "SIGTERM");
    await waitUntil(() => isGone(boxinit), "boxinit exits on TERM");
    await withinDeadline(parent.closed, "boxinit and the command have closed their output");
    t.same(recordedSignals(parent.stdout), ["USR2", "TERM"]);
  });

  await t.test("--parent-death-signal KILL: boxinit dies with its parent (tini -p SIGKILL)", async (t) => {
    const parent = new ParentShell(["--parent-death-signal", "KILL", "--", fixture("signal-record")]);
    const boxinit = await parent.ready();
    leftovers.add(boxinit);
    parent.killShell();
    await waitUntil(() => isGone(boxinit), "boxinit is killed after its parent's death");
    t.pass("boxinit was killed");
    t.notMatch(parent.stderr, /stop requested/, "no orderly stop: KILL cannot be caught");
  });
});

t.test("accepted and rejected values", async (t) => {
  const missing = missingPrerequisite("subreaper");
  if (missing) return t.fail(missing);
  for (const value of ["NOPE", "0", "32", "64", "-1", "SIGFOO", "TERM:QUIT"]) {
    const result = await runBoxinit("subreaper", [`--parent-death-signal=${value}`, "--", "/bin/sh", "-c", "echo ran"]);
    t.equal(result.code, 2, `--parent-death-signal ${value}: exit 2`);
    t.ok(result.stderr.split("\n").some((line) => line.includes("--parent-death-signal") && line.includes(value)), "the usage error names the option and the value", { stderr: result.stderr });
    t.notMatch(result.stdout, /ran/, "nothing was started");
  }
  const fromEnv = await runBoxinit("subreaper", ["--", "/bin/sh", "-c", "echo ran"], { env: { BOXINIT_PARENT_DEATH_SIGNAL: "NOPE" } });
  t.equal(fromEnv.code, 2, "BOXINIT_PARENT_DEATH_SIGNAL=NOPE: exit 2");
  t.match(fromEnv.stderr, /BOXINIT_PARENT_DEATH_SIGNAL.*NOPE/, "the usage error names the variable and the value");
  t.notMatch(fromEnv.stdout, /ran/, "nothing was started");
  for (const value of ["TERM", "SIGKILL", "hup", "1", "31"]) {
    const result = await runBoxinit("subreaper", ["--parent-death-signal", value, "--", "/bin/sh", "-c", "exit 3"]);
    t.equal(result.code, 3, `--parent-death-signal ${value} is accepted`, { stderr: result.stderr });
  }
});

t.test("pid1: the option is accepted and changes nothing", async (t) => {
  const missing = missingPrerequisite("pid1");
  if (missing) return t.fail(missing);
  const exited = await runBoxinit("pid1", ["--parent-death-signal", "TERM", "--", "/bin/sh", "-c", "exit 3"]);
  t.equal(exited.code, 3, "the command's code", { stderr: exited.stderr });
  t.notMatch(exited.stderr, /error|warn/i, "no complaint");

  const run = startBoxinit("pid1", ["-q", "--parent-death-signal", "TERM", "--", fixture("signal-record")]);
  t.teardown(() => run.kill());
  await run.waitFor(/^ready /m);
  await run.signal("SIGUSR1");
  await run.waitFor(/^signal USR1$/m);
  await run.signal("SIGTERM");
  t.same(await run.result(), { code: 0, signal: null });
  t.same(recordedSignals(run.stdout), ["USR1", "TERM"], "signals go on as ever");
});

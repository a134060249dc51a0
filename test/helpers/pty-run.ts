// Runs a program on a pseudo-terminal of its own (helpers/pty-relay.py), the
// way a person at a terminal does: the transcript, keystrokes, and the pids
// of the processes under the terminal. Waits on output with deadlines, never
// fixed sleeps, and kills every tree it started in teardown.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { BOXINIT, ROOT, type Mode } from "./boxinit.ts";
import { CapturedRun, type Ended } from "./captured-run.ts";
import { childrenOf } from "./proc.ts";

const RELAY = join(ROOT, "test/helpers/pty-relay.py");

export const CTRL_C = "\x03";
export const CTRL_Z = "\x1a";

/** A program running on a terminal of its own. */
export class PtyRun extends CapturedRun {
  // stdout: everything written to the terminal ("\n", not "\r\n"), then "pty-exit=N";
  // stderr: the relay's own complaints, if any.

  constructor(argv: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}) {
    // tap's own loader options must not reach the programs under test.
    const env = { ...process.env, NODE_OPTIONS: undefined, ...options.env };
    super(spawn("python3", [RELAY, "--", ...argv], { env, stdio: ["pipe", "pipe", "pipe"] }), RUNNING);
  }

  /** Where the transcript ends now: waitFor({ from }) then sees only what comes after. */
  mark(): number {
    return this.stdout.length;
  }

  /** Resolve once the transcript (from offset `from`) matches; reject at the deadline or the end, with the transcript. */
  waitFor(pattern: RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<RegExpMatchArray> {
    return this.waitUntil(() => this.stdout.slice(options.from ?? 0).match(pattern), options.timeoutMs ?? 10_000, (why) =>
      `${why === "ended" ? "the terminal's program ended" : "timed out"} waiting for ${pattern} on the terminal\ntranscript: ${this.stdout}\nrelay stderr: ${this.stderr}`);
  }

  /** Type into the terminal (CTRL_C, CTRL_Z, "fg\n", ...). */
  type(text: string): void {
    this.child.stdin!.write(text);
  }

  /**
   * The pid `depth` levels below the relay, following the first child at
   * each level: 1 is the program that leads the terminal's session.
   */
  async pidAt(depth: number, timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let pid = this.child.pid!;
      for (let level = 0; level < depth && pid !== undefined; level++) pid = childrenOf(pid)[0]!;
      if (pid !== undefined) return pid;
      if (Date.now() > deadline) throw new Error(`no process ${depth} levels below the pty relay\ntranscript: ${this.stdout}`);
      await new Promise((wake) => setTimeout(wake, 10));
    }
  }

  /** Wait for the end, failing after timeoutMs; the code is the terminal program's (128+N for signal N). */
  result(timeoutMs = 20_000): Promise<Ended> {
    return this.endWithin(timeoutMs, () => `the terminal's program did not exit within ${timeoutMs} ms\ntranscript: ${this.stdout}`);
  }
}

/** boxinit on a terminal: it (or, as PID 1, unshare) leads the terminal's session. */
export class BoxinitPtyRun extends PtyRun {
  readonly mode: Mode;

  constructor(mode: Mode, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}) {
    super(mode === "pid1" ? ["unshare", "--pid", "--fork", "--mount-proc", BOXINIT, ...args] : [BOXINIT, ...args], options);
    this.mode = mode;
  }

  /** boxinit's own pid as the host sees it. */
  boxinitPid(): Promise<number> {
    return this.pidAt(this.mode === "pid1" ? 2 : 1);
  }

  /** Send a signal to boxinit itself (from this process, not the terminal). */
  async signal(signal: NodeJS.Signals | number): Promise<void> {
    process.kill(await this.boxinitPid(), signal);
  }
}

const RUNNING = new Set<CapturedRun>();

/** Kill every terminal run still alive: call from a teardown. */
export const killAllPtyRuns = (): void => {
  for (const run of RUNNING) run.kill();
};

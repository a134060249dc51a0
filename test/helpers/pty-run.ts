// Runs a program on a pseudo-terminal of its own (helpers/pty-relay.py), the
// way a person at a terminal does: the transcript, keystrokes, and the pids
// of the processes under the terminal. Waits on output with deadlines, never
// fixed sleeps, and kills every tree it started in teardown.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { descendantsOf, readProcTable } from "../../src/pid1/proc-table.ts";
import { BOXINIT, ROOT, type Ended, type Mode } from "./boxinit.ts";
import { childrenOf } from "./proc.ts";

const RELAY = join(ROOT, "test/helpers/pty-relay.py");

export const CTRL_C = "\x03";
export const CTRL_Z = "\x1a";

/** A program running on a terminal of its own. */
export class PtyRun {
  readonly child: ChildProcess;
  /** Everything written to the terminal ("\n", not "\r\n"), then "pty-exit=N". */
  stdout = "";
  /** The relay's own complaints, if any. */
  stderr = "";
  readonly ended: Promise<Ended>;
  /** Whether it ended and all its output is in (nothing more can match). */
  hasEnded = false;
  #waiters: Array<() => void> = [];

  constructor(argv: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}) {
    // tap's own loader options must not reach the programs under test.
    const env = { ...process.env, NODE_OPTIONS: undefined, ...options.env };
    this.child = spawn("python3", [RELAY, "--", ...argv], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk: Buffer) => this.#append("stdout", chunk));
    this.child.stderr!.on("data", (chunk: Buffer) => this.#append("stderr", chunk));
    this.ended = new Promise((resolveEnded) => {
      this.child.once("close", (code, signal) => {
        this.hasEnded = true;
        resolveEnded({ code, signal });
        for (const waiter of this.#waiters.splice(0)) waiter();
      });
    });
    RUNNING.add(this);
    void this.ended.then(() => RUNNING.delete(this));
  }

  #append(stream: "stdout" | "stderr", chunk: Buffer): void {
    this[stream] += chunk.toString();
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Where the transcript ends now: waitFor({ from }) then sees only what comes after. */
  mark(): number {
    return this.stdout.length;
  }

  /** Resolve once the transcript (from offset `from`) matches; reject at the deadline or the end, with the transcript. */
  async waitFor(pattern: RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<RegExpMatchArray> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const match = this.stdout.slice(options.from ?? 0).match(pattern);
      if (match) return match;
      const left = deadline - Date.now();
      if (this.hasEnded || left <= 0) {
        const why = this.hasEnded ? "the terminal's program ended" : "timed out";
        throw new Error(`${why} waiting for ${pattern} on the terminal\ntranscript: ${this.stdout}\nrelay stderr: ${this.stderr}`);
      }
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 200));
        this.#waiters.push(() => { clearTimeout(timer); wake(); });
      });
    }
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
  async result(timeoutMs = 20_000): Promise<Ended> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the terminal's program did not exit within ${timeoutMs} ms\ntranscript: ${this.stdout}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL the whole tree this run started. */
  kill(): void {
    const root = this.child.pid;
    if (root === undefined || this.child.exitCode !== null) return;
    const tree = descendantsOf(root, readProcTable());
    for (const pid of [root, ...tree.map((entry) => entry.pid)]) {
      try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
    }
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

const RUNNING = new Set<PtyRun>();

/** Kill every terminal run still alive: call from a teardown. */
export const killAllPtyRuns = (): void => {
  for (const run of RUNNING) run.kill();
};

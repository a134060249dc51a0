// What the helpers that start a program under test share (boxinit.ts,
// pty-run.ts): its output captured as it comes, waits woken by new output or
// the end (deadlines only as failure guards, never fixed sleeps), a bounded
// wait for the end, and a SIGKILL of the whole tree it started for teardown.
import type { ChildProcess } from "node:child_process";
import { descendantsOf, readProcTable } from "../../src/pid1/proc-table.ts";

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A started child whose stdout and stderr are captured. */
export class CapturedRun {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly ended: Promise<Ended>;
  /** Whether it ended and all its output is in (nothing more can match). */
  hasEnded = false;
  #waiters: Array<() => void> = [];

  /** running: the set a teardown kills from; the run leaves it when it ends. */
  constructor(child: ChildProcess, running: Set<CapturedRun>) {
    this.child = child;
    child.stdout!.on("data", (chunk: Buffer) => this.#append("stdout", chunk));
    child.stderr!.on("data", (chunk: Buffer) => this.#append("stderr", chunk));
    this.ended = new Promise((resolveEnded) => {
      child.once("close", (code, signal) => {
        this.hasEnded = true;
        resolveEnded({ code, signal });
        this.#wake();
      });
    });
    running.add(this);
    void this.ended.then(() => running.delete(this));
  }

  #append(stream: "stdout" | "stderr", chunk: Buffer): void {
    this[stream] += chunk.toString();
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /**
   * Resolve with find's match once there is one; reject when the run has
   * ended without it or at the deadline, with failure's words for why.
   */
  protected async waitUntil(find: () => RegExpMatchArray | null, timeoutMs: number, failure: (why: "ended" | "timed out") => string): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = find();
      if (match) return match;
      if (this.hasEnded) throw new Error(failure("ended"));
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(failure("timed out"));
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 200));
        this.#waiters.push(() => { clearTimeout(timer); wake(); });
      });
    }
  }

  /** Wait for the end, failing after timeoutMs with failure's words. */
  protected async endWithin(timeoutMs: number, failure: () => string): Promise<Ended> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(failure())), timeoutMs);
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

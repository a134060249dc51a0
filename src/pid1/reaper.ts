// Reaps every zombie that is not Node's own. libuv reaps the children it
// spawned by pid and silently drops their exit event if anyone else reaps them
// first, so a blind waitpid(-1) is never used: the next zombie is peeked at
// with waitid(WNOWAIT) and reaped only when no ChildProcess owns that pid.
import { ChildProcess } from "node:child_process";
import type { Native } from "../native/addon.ts";
import type { Logger } from "../log/logger.ts";
import { decodeWaitStatus, type Ending } from "./exit-code.ts";
import { SIGNAL_NAMES } from "./signals.ts";
import { liveDescendants } from "./proc-table.ts";

// Bound one synchronous pass so an orphan storm cannot starve signal handling.
const MAX_REAPS_PER_PASS = 1000;
// SIGCHLDs coalesce and an owned zombie can hide others behind it: a slow
// sweep catches anything a missed wake-up left behind.
const SAFETY_SWEEP_MS = 1000;

/** Called for each process the reaper (not libuv) reaped. */
export type ReapListener = (pid: number, ending: Ending) => void;

/** One owner per pid: Node owns what it spawned, the reaper owns the rest. */
export class Reaper {
  readonly #native: Native | undefined;
  readonly #log: Logger;
  readonly #owned = new Set<number>();
  readonly #listeners = new Set<ReapListener>();
  readonly #quietListeners = new Set<() => void>();
  #scheduled = false;
  #reapedCount = 0;

  constructor(native: Native | undefined, log: Logger) {
    this.#native = native;
    this.#log = log;
  }

  /** Whether orphans can be reaped at all (the addon loaded). */
  get canReap(): boolean {
    return this.#native !== undefined;
  }

  /** How many orphans this reaper has reaped. */
  get reapedCount(): number {
    return this.#reapedCount;
  }

  /** Track Node's children, listen for SIGCHLD, start the safety sweep. */
  install(): void {
    this.#trackNodeChildren();
    process.on("SIGCHLD", () => this.sweep());
    setInterval(() => this.sweep(), SAFETY_SWEEP_MS).unref();
  }

  /** Subscribe to reaped orphans (the supervisor follows pidfile daemons this way). */
  onReaped(listener: ReapListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after a pass that found no children left at all. */
  onNoChildren(listener: () => void): () => void {
    this.#quietListeners.add(listener);
    return () => this.#quietListeners.delete(listener);
  }

  /** Whether any child (zombie or alive, owned or not) remains. */
  hasChildren(): boolean {
    if (this.#native) return this.#native.peekZombie().kind !== "no-children";
    // Without the addon zombies pile up forever; only live ones can be waited for.
    return this.#owned.size > 0 || liveDescendants().length > 0;
  }

  /** Reap every unowned zombie now; stop at an owned one (libuv's to reap). */
  sweep(): void {
    const native = this.#native;
    if (!native) {
      if (!this.hasChildren()) this.#notifyQuiet();
      return;
    }
    for (let reaped = 0; reaped < MAX_REAPS_PER_PASS; reaped++) {
      const peek = native.peekZombie();
      if (peek.kind === "no-children") return this.#notifyQuiet();
      if (peek.kind === "none-exited") return;
      // Owned: libuv reaps it and emits 'exit', whose listener runs sweep again.
      if (this.#owned.has(peek.pid)) return;
      const status = native.reap(peek.pid);
      if (status !== undefined) this.#onOrphanReaped(peek.pid, decodeWaitStatus(status, SIGNAL_NAMES));
    }
    this.#scheduleSweep();
  }

  #scheduleSweep(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.sweep();
    });
  }

  #onOrphanReaped(pid: number, ending: Ending): void {
    this.#reapedCount++;
    if (this.#log.isEnabled("trace")) {
      this.#log.trace("orphan-reaped", "reaped an orphaned process", { pid, code: ending.code ?? undefined, signal: ending.signal ?? undefined });
    }
    for (const listener of this.#listeners) listener(pid, ending);
  }

  #notifyQuiet(): void {
    for (const listener of this.#quietListeners) listener();
  }

  // spawn, exec, execFile, fork and execa all end in ChildProcess#spawn, which
  // returns after fork+exec: the pid is owned before any SIGCHLD for it can be
  // handled (handlers run later on this same thread).
  #trackNodeChildren(): void {
    const owned = this.#owned;
    const reaper = this;
    // ChildProcess#spawn is internal API (stable since Node 0.x), absent from the types.
    const prototype = ChildProcess.prototype as ChildProcess & { spawn: (...args: unknown[]) => unknown };
    const originalSpawn = prototype.spawn;
    prototype.spawn = function spawnAndOwn(this: ChildProcess, ...args: unknown[]) {
      const result = originalSpawn.apply(this, args);
      const pid = this.pid;
      if (pid !== undefined) {
        owned.add(pid);
        this.once("exit", () => {
          owned.delete(pid);
          reaper.sweep();
        });
      }
      return result;
    };
  }
}

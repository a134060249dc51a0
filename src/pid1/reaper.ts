// Reaps every zombie that is not Node's own. libuv reaps the children it
// spawned by pid and silently drops their exit event if anyone else reaps them
// first, so a blind waitpid(-1) is never used: the next zombie is peeked at
// with waitid(WNOWAIT) and reaped only when no ChildProcess owns that pid.
import type { ChildProcess } from "node:child_process";
import type { Native } from "../native/addon.ts";
import type { Logger } from "../log/logger.ts";
import { readFileSync, readdirSync } from "node:fs";
import { decodeWaitStatus, type Ending } from "./exit-code.ts";
import { signalLabel } from "./signals.ts";
import { liveDescendants } from "./proc-table.ts";

// Bound one synchronous pass so an orphan storm cannot starve signal handling.
const MAX_REAPS_PER_PASS = 1000;
// SIGCHLDs coalesce, and libuv drops signal messages when its signal pipe is
// full (a signal flood): a slow sweep catches what a missed wake-up left.
const SAFETY_SWEEP_MS = 1000;

/** Called for each process the reaper (not libuv) reaped, with its raw ending. */
export type ReapListener = (pid: number, ending: Ending) => void;

/** What the reaper uses of the addon. */
export type ReapingAddon = Pick<Native, "peekZombie" | "reap">;

/** A child Node spawned, as the reaper sees it: owned from its spawn until its 'exit'. */
export interface NodeChild {
  readonly pid?: number | undefined;
  once(event: "exit", listener: () => void): unknown;
}

/**
 * What the reaper uses of the process besides the addon. A seam: the real
 * one by default (REAPER_SYSTEM); tests pass a fake and drive SIGCHLD, Node's
 * children and /proc themselves.
 */
export interface ReaperSystem {
  /** Call spawned(child) for each child Node spawns, right after its fork (the real one wraps ChildProcess#spawn). */
  watchNodeChildren: (spawned: (child: NodeChild) => void) => void;
  onSigchld: (listener: () => void) => void;
  /** SIGCHLD to boxinit itself, so that libuv looks at its children again. */
  nudgeLibuv: () => void;
  /** boxinit's children by pid (for the safety sweep's reap by pid). */
  ownChildren: () => number[];
  /** Whether any live descendant remains (without the addon, the only way to tell). */
  hasLiveDescendants: () => boolean;
}

/** One owner per pid: Node owns what it spawned, the reaper owns the rest. */
export class Reaper {
  readonly #native: ReapingAddon | undefined;
  readonly #log: Logger;
  readonly #system: ReaperSystem;
  readonly #owned = new Set<number>();
  readonly #listeners = new Set<ReapListener>();
  readonly #quietListeners = new Set<() => void>();
  #scheduled = false;
  #reapedCount = 0;
  /** The owned zombie the last safety sweep stopped at, if any. */
  #stuckAt: number | undefined;

  constructor(native: ReapingAddon | undefined, log: Logger, system: ReaperSystem = REAPER_SYSTEM) {
    this.#native = native;
    this.#log = log;
    this.#system = system;
  }

  /** Whether orphans can be reaped at all (the addon loaded). */
  get canReap(): boolean {
    return this.#native !== undefined;
  }

  /** How many processes this reaper (not libuv) has reaped. */
  get reapedCount(): number {
    return this.#reapedCount;
  }

  /** Track Node's children, listen for SIGCHLD, start the safety sweep (which keeps the process alive). */
  install(): void {
    this.#system.watchNodeChildren((child) => this.#own(child));
    this.#system.onSigchld(() => this.sweep());
    // Referenced on purpose: signal handlers do not keep Node's event loop
    // alive, and the addon's children are no libuv handles, so without this
    // boxinit would exit 0 while its command still runs. boxinit ends only
    // through process.exit in main.ts.
    setInterval(() => this.#safetySweep(), SAFETY_SWEEP_MS);
  }

  /** Subscribe to processes the reaper reaped: orphans, and the main command spawned by the addon. */
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
    return this.#owned.size > 0 || this.#system.hasLiveDescendants();
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
      if (status !== undefined) this.#onReaped(peek.pid, decodeWaitStatus(status));
    }
    this.#scheduleSweep();
  }

  // An owned zombie still first in line a whole sweep interval later means
  // libuv missed its SIGCHLD (its signal pipe overflowed): signal ourselves so
  // libuv looks at its children again, and meanwhile reap the unowned zombies
  // queued behind it by pid.
  #safetySweep(): void {
    const peek = this.#native?.peekZombie();
    const stuck = peek?.kind === "zombie" && this.#owned.has(peek.pid) ? peek.pid : undefined;
    if (stuck !== undefined && stuck === this.#stuckAt) {
      this.#log.debug("reaper", "libuv has not reaped its child for a sweep interval: nudging it", { pid: stuck });
      this.#system.nudgeLibuv();
      this.#reapUnownedByPid();
    }
    this.#stuckAt = stuck;
    this.sweep();
  }

  #reapUnownedByPid(): void {
    const native = this.#native!;
    for (const pid of this.#system.ownChildren()) {
      if (this.#owned.has(pid)) continue;
      const status = native.reap(pid);
      if (status !== undefined) this.#onReaped(pid, decodeWaitStatus(status));
    }
  }

  #scheduleSweep(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.sweep();
    });
  }

  #onReaped(pid: number, ending: Ending): void {
    this.#reapedCount++;
    if (this.#log.isEnabled("trace")) {
      const signal = ending.signal === null ? undefined : signalLabel(ending.signal);
      this.#log.trace("orphan-reaped", "reaped a process", { pid, code: ending.code ?? undefined, signal });
    }
    for (const listener of this.#listeners) listener(pid, ending);
  }

  #notifyQuiet(): void {
    for (const listener of this.#quietListeners) listener();
  }

  // Owned from its spawn until libuv reaped it and emitted 'exit', whose listener sweeps again.
  #own(child: NodeChild): void {
    const pid = child.pid;
    if (pid === undefined) return;
    this.#owned.add(pid);
    child.once("exit", () => {
      this.#owned.delete(pid);
      this.sweep();
    });
  }
}

// Loading node:child_process (and net, stream, dgram with it) cost ~4 ms of
// CPU on every start; with the addon nothing needs it. So it is loaded on
// first use, through nodeChildProcess() only (make lint), which first makes
// every reaper waiting for it see the spawns through it.
let pendingWatchers: ((child: NodeChild) => void)[] | undefined = [];

/** node:child_process, its spawns owned by every reaper (the only way boxinit loads it). */
export const nodeChildProcess = (): typeof import("node:child_process") => {
  const childProcess = process.getBuiltinModule("node:child_process");
  for (const spawned of pendingWatchers ?? []) ownSpawnsOf(childProcess.ChildProcess, spawned);
  pendingWatchers = undefined;
  return childProcess;
};

const watchNodeChildren = (spawned: (child: NodeChild) => void): void => {
  if (pendingWatchers) pendingWatchers.push(spawned);
  else ownSpawnsOf(process.getBuiltinModule("node:child_process").ChildProcess, spawned);
};

// spawn, exec, execFile, fork and execa all end in ChildProcess#spawn, which
// returns after fork+exec: the pid is owned before any SIGCHLD for it can be
// handled (handlers run later on this same thread).
const ownSpawnsOf = (childProcessClass: typeof ChildProcess, spawned: (child: NodeChild) => void): void => {
  // ChildProcess#spawn is internal API (stable since Node 0.x), absent from the types.
  const prototype = childProcessClass.prototype as ChildProcess & { spawn: (...args: unknown[]) => unknown };
  const originalSpawn = prototype.spawn;
  prototype.spawn = function spawnAndOwn(this: ChildProcess, ...args: unknown[]) {
    const result = originalSpawn.apply(this, args);
    spawned(this);
    return result;
  };
};

/** Our children by pid, from /proc/self/task/TID/children (every thread's). */
const ownChildren = (): number[] => {
  const pids: number[] = [];
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const text = readFileSync(`/proc/self/task/${tid}/children`, "latin1").trim();
      if (text !== "") for (const pid of text.split(" ")) pids.push(Number(pid));
    }
  } catch {
    // No /proc or no CONFIG_PROC_CHILDREN: the nudge alone has to do.
  }
  return pids;
};

const REAPER_SYSTEM: ReaperSystem = {
  watchNodeChildren,
  onSigchld: (listener) => process.on("SIGCHLD", listener),
  nudgeLibuv: () => process.kill(process.pid, "SIGCHLD"),
  ownChildren,
  hasLiveDescendants: () => liveDescendants().length > 0,
};

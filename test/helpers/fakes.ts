// The fakes of the unit tests, in one place: a clock that moves only when a
// test says so, a log that records, the addon's reaping calls, and a table
// of pretend processes that the signal functions (send-signal.ts's shape) and
// a reaper act on. Nothing here starts a process or sends a real signal.
import { EventEmitter } from "node:events";
import { Logger, type Fields, type Level } from "../../src/log/logger.ts";
import type { Peek } from "../../src/native/addon.ts";
import type { Ending } from "../../src/pid1/exit-code.ts";
import type { ProcEntry } from "../../src/pid1/proc-table.ts";
import type { KillScope, SendResult } from "../../src/pid1/send-signal.ts";
import type { NodeChild, Reaper, ReaperSystem, ReapListener } from "../../src/pid1/reaper.ts";
import type { ServiceConfig, WarmupConfig } from "../../src/config/types.ts";
import type { PidfileResult } from "../../src/supervisor/pidfile.ts";
import type { PidfileReader } from "../../src/supervisor/service-pidfile.ts";
import type { ServiceSystem } from "../../src/supervisor/service-context.ts";
import type { NotStarted, ProcessSpec, Started } from "../../src/pid1/start-process.ts";
import type { LeftoversOutcome, MovableDeadline, StartTrace } from "../../src/supervisor/start-leftovers.ts";
import type { WarmupOptions, WarmupOutcome } from "../../src/supervisor/warmup.ts";

// ---------------------------------------------------------------- the clock

interface FakeTimer {
  id: number;
  dueMs: number;
  /** Set for setInterval. */
  everyMs: number | undefined;
  run: () => void;
}

const realSetImmediate = setImmediate;

const FAKE_TIMER = Symbol("fake timer");

/** What the fake setTimeout/setInterval return: enough of Node's Timeout for unref() and clearing. */
interface FakeHandle {
  [FAKE_TIMER]: number;
  unref(): FakeHandle;
  ref(): FakeHandle;
  hasRef(): boolean;
  refresh(): FakeHandle;
  [Symbol.toPrimitive](): number;
}

let isInstalled = false;

const isFakeHandle = (handle: unknown): handle is FakeHandle => typeof handle === "object" && handle !== null && FAKE_TIMER in handle;

/** Let every promise chain and setImmediate callback that is ready run (rounds of the real event loop). */
export const flush = async (rounds = 20): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => realSetImmediate(resolve));
};

/**
 * A fake clock: while installed, setTimeout/setInterval (and their clears)
 * and process.hrtime.bigint (so time/clock.ts's monotonicMs, settleBefore and
 * pause) follow it, and time moves only in advance(). setImmediate, promises
 * and Date stay real. Install it in a test and uninstall in its teardown.
 */
export class FakeClock {
  #nowMs = 1_000_000;
  #nextId = 1;
  readonly #timers = new Map<number, FakeTimer>();
  #restore: (() => void) | undefined;

  /** Milliseconds on the fake monotonic clock. */
  now(): number {
    return this.#nowMs;
  }

  /** The due times of pending timers, soonest first, relative to now. */
  pendingInMs(): number[] {
    return [...this.#timers.values()].map((timer) => timer.dueMs - this.#nowMs).sort((a, b) => a - b);
  }

  /** Take over the timers and the clock (one fake clock at a time: a second install throws). */
  install(): this {
    if (isInstalled) throw new Error("FakeClock.install: a fake clock is installed already: uninstall it first");
    isInstalled = true;
    const saved = {
      setTimeout: globalThis.setTimeout,
      clearTimeout: globalThis.clearTimeout,
      setInterval: globalThis.setInterval,
      clearInterval: globalThis.clearInterval,
      bigint: process.hrtime.bigint,
    };
    const add = (callback: (...args: unknown[]) => void, ms: number | undefined, args: unknown[], isInterval: boolean): FakeHandle => {
      const id = this.#nextId++;
      const delayMs = Math.max(isInterval ? 1 : 0, Number(ms ?? 0) || 0);
      this.#timers.set(id, { id, dueMs: this.#nowMs + delayMs, everyMs: isInterval ? delayMs : undefined, run: () => callback(...args) });
      const handle: FakeHandle = { [FAKE_TIMER]: id, unref: () => handle, ref: () => handle, hasRef: () => true, refresh: () => handle, [Symbol.toPrimitive]: () => id };
      return handle;
    };
    // A real timer made before install (tap's own) is cleared for real.
    const clear = (real: (handle: never) => void) => (handle: unknown): void => {
      if (isFakeHandle(handle)) this.#timers.delete(handle[FAKE_TIMER]);
      else real(handle as never);
    };
    const globals = globalThis as unknown as Record<string, unknown>;
    globals.setTimeout = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => add(callback, ms, args, false);
    globals.setInterval = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => add(callback, ms, args, true);
    globals.clearTimeout = clear(saved.clearTimeout);
    globals.clearInterval = clear(saved.clearInterval);
    process.hrtime.bigint = () => BigInt(Math.round(this.#nowMs * 1e6));
    this.#restore = () => {
      Object.assign(globals, { setTimeout: saved.setTimeout, clearTimeout: saved.clearTimeout, setInterval: saved.setInterval, clearInterval: saved.clearInterval });
      process.hrtime.bigint = saved.bigint;
      isInstalled = false;
    };
    return this;
  }

  /** Put the real timers back; pending fake timers are dropped. */
  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
    this.#timers.clear();
  }

  /** Move time forward by ms, running each timer due on the way at its own time (and what it sets off) in order. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.#nowMs + ms;
    await flush();
    for (let next = this.#next(targetMs); next; next = this.#next(targetMs)) {
      this.#nowMs = next.dueMs;
      if (next.everyMs === undefined) this.#timers.delete(next.id);
      else next.dueMs += next.everyMs;
      next.run();
      await flush();
    }
    this.#nowMs = targetMs;
    await flush();
  }

  /** Advance in steps of stepMs until the promise settles (at most limitMs); its value. */
  async until<T>(promise: Promise<T>, limitMs = 600_000, stepMs = 10): Promise<T> {
    let isSettled = false;
    const settled = promise.finally(() => {
      isSettled = true;
    });
    settled.catch(() => {});
    const endMs = this.#nowMs + limitMs;
    await flush();
    while (!isSettled) {
      if (this.#nowMs >= endMs) throw new Error(`FakeClock.until: not settled within ${limitMs}ms of fake time`);
      await this.advance(stepMs);
    }
    return settled;
  }

  #next(targetMs: number): FakeTimer | undefined {
    let next: FakeTimer | undefined;
    // Ties run in the order they were set (ids grow), as Node's timers do.
    for (const timer of this.#timers.values()) if (timer.dueMs <= targetMs && (next === undefined || timer.dueMs < next.dueMs)) next = timer;
    return next;
  }
}

// ------------------------------------------------------------------ the log

export interface LogLine {
  level: Level;
  event: string;
  message: string;
  fields: Fields;
}

/** A Logger (at trace) whose lines are kept in `lines`. */
export const recordingLog = (): { log: Logger; lines: LogLine[]; messages: () => string[] } => {
  const lines: LogLine[] = [];
  const log = new Logger({ write: (level, event, message, fields) => lines.push({ level, event, message, fields }) }, "trace");
  return { log, lines, messages: () => lines.map((line) => line.message) };
};

// --------------------------------------------------------------- the addon

/** A raw wait status: exited with code. */
export const exitStatus = (code: number): number => (code & 0xff) << 8;
/** A raw wait status: killed by signal. */
export const signalStatus = (signal: number): number => signal & 0x7f;

/**
 * The addon's reaping calls (peekZombie, reap) over a list of children in
 * the order they exited: peek shows the first exited one, reap takes it.
 * `calls` records each call in order ("peek:zombie 12", "reap 12").
 */
export class FakeReapingAddon {
  readonly calls: string[] = [];
  /** Children by pid: undefined while running, the raw wait status once exited. */
  readonly #children = new Map<number, number | undefined>();
  readonly #exitOrder: number[] = [];

  /** A child that runs. */
  add(pid: number): void {
    this.#children.set(pid, undefined);
  }

  /** A child exited (added first when it was not there): it is a zombie until reaped. */
  exit(pid: number, status: number): void {
    this.#children.set(pid, status);
    this.#exitOrder.push(pid);
  }

  /** Reaped by someone else (libuv, for a child Node spawned): gone without a reap call here. */
  reapedElsewhere(pid: number): void {
    this.#children.delete(pid);
    const at = this.#exitOrder.indexOf(pid);
    if (at >= 0) this.#exitOrder.splice(at, 1);
  }

  get childCount(): number {
    return this.#children.size;
  }

  peekZombie(): Peek {
    const peek: Peek = this.#exitOrder.length > 0 ? { kind: "zombie", pid: this.#exitOrder[0]! } : this.#children.size > 0 ? { kind: "none-exited" } : { kind: "no-children" };
    this.calls.push(peek.kind === "zombie" ? `peek:zombie ${peek.pid}` : `peek:${peek.kind}`);
    return peek;
  }

  reap(pid: number): number | undefined {
    this.calls.push(`reap ${pid}`);
    const status = this.#children.get(pid);
    if (status === undefined) return undefined;
    this.#children.delete(pid);
    this.#exitOrder.splice(this.#exitOrder.indexOf(pid), 1);
    return status;
  }
}

/** A child Node spawned, as the reaper's fake system hands it over: emit("exit") when libuv would have reaped it. */
export class FakeNodeChild extends EventEmitter implements NodeChild {
  readonly pid: number | undefined;
  constructor(pid: number | undefined) {
    super();
    this.pid = pid;
  }
}

/** The reaper's system (ReaperSystem): SIGCHLD, Node's children and /proc, driven by the test. */
export class FakeReaperSystem implements ReaperSystem {
  nudges = 0;
  /** What /proc/self/task/N/children would list. */
  children: number[] = [];
  isAnyDescendantAlive = false;
  #spawned: ((child: NodeChild) => void) | undefined;
  #sigchld: (() => void) | undefined;

  watchNodeChildren = (spawned: (child: NodeChild) => void): void => {
    this.#spawned = spawned;
  };
  onSigchld = (listener: () => void): void => {
    this.#sigchld = listener;
  };
  nudgeLibuv = (): void => {
    this.nudges++;
  };
  ownChildren = (): number[] => [...this.children];
  hasLiveDescendants = (): boolean => this.isAnyDescendantAlive;

  /** Node spawned a child with this pid (the reaper owns it until its 'exit'). */
  spawnNodeChild(pid: number): FakeNodeChild {
    const child = new FakeNodeChild(pid);
    this.#spawned?.(child);
    return child;
  }

  /** A SIGCHLD arrived. */
  sigchld(): void {
    this.#sigchld?.();
  }
}

// ------------------------------------------------------------ the processes

/** A pretend process in FakeProcesses. */
export interface FakeProcess {
  pid: number;
  pgid: number;
  comm: string;
  isAlive: boolean;
  /** Signals it ignores (SIGKILL cannot be). */
  ignores: Set<number>;
  /** Signals it got, in order. */
  got: number[];
  ended: Promise<Ending>;
  end: (ending: Ending) => void;
}

const SIGKILL = 9;

/**
 * A table of pretend processes. Its `signals` have send-signal.ts's shape
 * (signalGroup, signalProcess, killGroup, signalEverythingLeft) plus
 * proc-table's liveDescendants: a signal not ignored ends the process, by
 * that signal. `sent` records every send in order ("group 10 15", "pid 12 9",
 * "all descendants 15"). Its `reaper` reports ends as the real one does.
 */
export class FakeProcesses {
  readonly sent: string[] = [];
  readonly #table = new Map<number, FakeProcess>();
  readonly #reaped = new Set<ReapListener>();
  readonly #quiet = new Set<() => void>();

  /** A running process; its group is its own unless given. */
  spawn(pid: number, options: { pgid?: number; comm?: string; ignores?: number[] } = {}): FakeProcess {
    let end: (ending: Ending) => void = () => {};
    const ended = new Promise<Ending>((resolve) => {
      end = resolve;
    });
    const proc: FakeProcess = { pid, pgid: options.pgid ?? pid, comm: options.comm ?? `p${pid}`, isAlive: true, ignores: new Set(options.ignores), got: [], ended, end: () => {} };
    proc.end = (ending) => {
      if (!proc.isAlive) return;
      proc.isAlive = false;
      end(ending);
      for (const listener of this.#reaped) listener(pid, ending);
      if (this.alive().length === 0) for (const listener of this.#quiet) listener();
    };
    this.#table.set(pid, proc);
    return proc;
  }

  get(pid: number): FakeProcess | undefined {
    return this.#table.get(pid);
  }

  alive(): FakeProcess[] {
    return [...this.#table.values()].filter((entry) => entry.isAlive);
  }

  #deliver(proc: FakeProcess, signal: number): void {
    proc.got.push(signal);
    if (signal === 0) return;
    if (signal === SIGKILL || !proc.ignores.has(signal)) proc.end({ code: null, signal });
  }

  readonly #entry = (proc: FakeProcess): ProcEntry => ({ pid: proc.pid, ppid: 1, pgrp: proc.pgid, session: proc.pgid, startTicks: 0, state: "S", comm: proc.comm });

  readonly signals = {
    signalGroup: (pgid: number, signal: number): SendResult => {
      this.sent.push(`group ${pgid} ${signal}`);
      const members = this.alive().filter((entry) => entry.pgid === pgid);
      for (const member of members) this.#deliver(member, signal);
      return members.length > 0 ? "sent" : "gone";
    },
    signalProcess: (pid: number, signal: number): SendResult => {
      this.sent.push(`pid ${pid} ${signal}`);
      const proc = this.#table.get(pid);
      if (!proc?.isAlive) return "gone";
      this.#deliver(proc, signal);
      return "sent";
    },
    killGroup: (pgid: number): ProcEntry[] => {
      const members = this.alive().filter((entry) => entry.pgid === pgid).map(this.#entry);
      this.signals.signalGroup(pgid, SIGKILL);
      return members;
    },
    signalEverythingLeft: (scope: KillScope, signal: number): ProcEntry[] => {
      const left = this.alive();
      this.sent.push(`all ${scope} ${signal}`);
      for (const proc of left) this.#deliver(proc, signal);
      return left.map(this.#entry);
    },
    liveDescendants: (): ProcEntry[] => this.alive().map(this.#entry),
  };

  /** A reaper over the table (the shape stop-all.ts and a service use): it reports each end, and "no children" once all are gone. */
  readonly reaper = {
    canReap: true,
    sweep: (): void => {
      if (this.alive().length === 0) for (const listener of this.#quiet) listener();
    },
    hasChildren: (): boolean => this.alive().length > 0,
    onNoChildren: (listener: () => void): (() => void) => {
      this.#quiet.add(listener);
      return () => this.#quiet.delete(listener);
    },
    onReaped: (listener: ReapListener): (() => void) => {
      this.#reaped.add(listener);
      return () => this.#reaped.delete(listener);
    },
  };
}

/** The fake reaper where a type asks for the real class (a service only calls onReaped on it when given a system). */
export const asReaper = (reaper: FakeProcesses["reaper"]): Reaper => reaper as unknown as Reaper;

// ------------------------------------------------------ a service's system

/** A service's config as the loader makes it (the defaults), with the fields given. */
export const serviceConfig = (overrides: Partial<ServiceConfig> = {}): ServiceConfig => ({
  name: "web",
  command: ["/bin/web"],
  env: { A: "1" },
  stopSignal: 15,
  restart: "no",
  restartDelayMs: 1000,
  restartMaxDelayMs: 60_000,
  maxRestarts: 10,
  stableAfterMs: 10_000,
  after: [],
  critical: true,
  pidfileTimeoutMs: 60_000,
  logFile: true,
  ...overrides,
});

/** A warm-up config (an HTTP check the fake system never makes). */
export const warmupConfig = (overrides: Partial<WarmupConfig> = {}): WarmupConfig => ({
  check: { kind: "http", url: "http://localhost/", expect: "any" },
  intervalMs: 1000,
  tryTimeoutMs: 5000,
  timeoutMs: 60_000,
  onTimeout: "fail",
  ...overrides,
});

/** What one start does: start a process (and maybe act on it), or fail to start. */
export type StartStep = NotStarted | ((proc: FakeProcess, spec: ProcessSpec) => void);

/**
 * A service's system (ServiceSystem) over FakeProcesses: each start takes the
 * next step of `steps` (none left: a process that runs until signalled);
 * warm-ups take the next of `warmups`; the pidfile side answers from
 * `pidfileResults`, `refusals` and the table. Everything is recorded.
 */
export class FakeServiceSystem implements ServiceSystem {
  readonly processes = new FakeProcesses();
  readonly steps: StartStep[] = [];
  readonly starts: Array<{ argv: readonly string[]; env: Readonly<Record<string, string>>; pid?: number }> = [];
  readonly warmups: Array<WarmupOutcome | ((options: WarmupOptions) => Promise<WarmupOutcome>)> = [];
  readonly warmupCalls: WarmupOptions[] = [];
  readonly pidfileResults: Array<PidfileResult | (() => Promise<PidfileResult>)> = [];
  readonly refusals = new Map<number, string>();
  readonly leftoverStops: Array<{ trace: StartTrace; signal: number; deadlineAt: number }> = [];
  nextPid = 100;
  startCheck = undefined;

  startProcess = (spec: ProcessSpec): Started | NotStarted => {
    const step = this.steps.shift();
    if (step !== undefined && typeof step !== "function") {
      this.starts.push({ argv: spec.argv, env: spec.env ?? {} });
      return step;
    }
    const proc = this.processes.spawn(this.nextPid++, { comm: spec.argv[0] ?? "?" });
    this.starts.push({ argv: spec.argv, env: spec.env ?? {}, pid: proc.pid });
    step?.(proc, spec);
    return { pid: proc.pid, ended: proc.ended };
  };

  runWarmup = (_warmup: WarmupConfig, options: WarmupOptions): Promise<WarmupOutcome> => {
    this.warmupCalls.push(options);
    const next = this.warmups.shift() ?? { outcome: "ready", tries: 1, elapsedMs: 0 };
    return typeof next === "function" ? next(options) : Promise.resolve(next);
  };

  readonly pidfile: PidfileReader = {
    identity: () => undefined,
    waitFor: async () => {
      const next = this.pidfileResults.shift() ?? { problem: "pidfile /fake.pid did not appear within 1m" };
      return typeof next === "function" ? next() : next;
    },
    refusal: (pid) => this.refusals.get(pid),
    groupOf: (pid) => this.processes.get(pid)?.pgid,
    isOurChild: () => true,
    isAlive: (pid) => this.processes.get(pid)?.isAlive === true,
  };

  get signals(): FakeProcesses["signals"] {
    return this.processes.signals;
  }

  stopLeftovers = async (trace: StartTrace, signal: number, deadline: MovableDeadline): Promise<LeftoversOutcome> => {
    this.leftoverStops.push({ trace, signal, deadlineAt: deadline.at });
    return { signalled: [], killed: [] };
  };
}

// --------------------------------------------------------------- croner

/**
 * croner's Cron as the scheduler uses it (new Cron(pattern, options, run),
 * nextRun, stop): it fires only when the test calls fire(). Every one made
 * is in FakeCron.made, newest last.
 */
export class FakeCron {
  static made: FakeCron[] = [];
  readonly pattern: string;
  readonly options: { timezone?: string };
  readonly #run: (() => void) | undefined;
  next: Date | null = new Date("2030-01-01T03:00:00.000Z");
  isStopped = false;

  constructor(pattern: string, options: { timezone?: string }, run?: () => void) {
    this.pattern = pattern;
    this.options = options;
    this.#run = run;
    FakeCron.made.push(this);
  }

  nextRun(): Date | null {
    return this.next;
  }

  stop(): void {
    this.isStopped = true;
  }

  /** The time came: croner calls the scheduler (a stopped one does not). */
  fire(): void {
    if (!this.isStopped) this.#run?.();
  }
}

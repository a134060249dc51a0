// The one shutdown budget: the main command's group gets the signal first,
// then everything left gets SIGTERM, then SIGKILL at the deadline. Whatever
// finishes early ends the wait at once: no phase sleeps a fixed time.
import type { Logger } from "../log/logger.ts";
import { monotonicMs, settleBefore } from "../time/clock.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { Ending } from "../pid1/exit-code.ts";
import { formatDurationMs } from "../config/duration.ts";
import { SIGNAL_NUMBERS, signalLabel } from "../pid1/signals.ts";
import { liveDescendants, type ProcEntry } from "../pid1/proc-table.ts";
import { killGroup, signalEverythingLeft, signalGroup, type KillScope, type SendResult } from "../pid1/send-signal.ts";

// After SIGKILL the kernel tears processes down promptly, but a process in
// uninterruptible sleep (D state, e.g. stuck NFS) may never go: bound the wait.
const AFTER_KILL_WAIT_MS = 2000;
// Without the addon there is no event for "last child gone": poll for it.
const NO_ADDON_POLL_MS = 50;
// When the main command may use the whole budget, processes outside its group
// (daemons its start script left) would get no SIGTERM at all: this much of
// the budget is kept for them, and used only when there are such processes.
const LEFTOVER_RESERVE_MAX_MS = 1000;

/** The part of the budget kept for processes left outside the main command's group. */
export const leftoverReserveMs = (graceMs: number): number => Math.min(LEFTOVER_RESERVE_MAX_MS, graceMs / 4);

/** The stages of the budget, named in the log when one overruns. */
export type StopPhase = "main" | "remaining";

/** What the budget uses of the reaper. */
export type StopReaper = Pick<Reaper, "sweep" | "hasChildren" | "onNoChildren" | "canReap">;

/** The signals the budget sends and who is there to get them: send-signal.ts's and proc-table.ts's. */
export interface StopSignals {
  signalGroup: (pgid: number, signal: number) => SendResult;
  /** SIGKILL a group; who was in it. */
  killGroup: (pgid: number) => ProcEntry[];
  signalEverythingLeft: (scope: KillScope, signal: number) => ProcEntry[];
  liveDescendants: () => ProcEntry[];
}

const SEND_SIGNAL: StopSignals = { signalGroup, killGroup, signalEverythingLeft, liveDescendants };

export interface StopContext {
  log: Logger;
  reaper: StopReaper;
  scope: KillScope;
  /** A seam for tests (a fake that records); default the real ones. */
  signals?: StopSignals;
}

/** What to stop: the main command (if still running) and the signal it gets. */
export interface StopRequest {
  /** isSignalSent: the signal handler already sent it (signal-intake.ts), so it is not sent again. */
  main?: { pgid: number; ended: Promise<Ending>; isSignalSent?: boolean };
  /** Signal for the main command's group; undefined when it already ended. */
  signal?: number;
  /** monotonicMs() value at which SIGKILL is sent. */
  deadline: number;
  /** See leftoverReserveMs. */
  reserveMs: number;
}

/** A cancellable timeout that resolves to "deadline". */
const timer = (ms: number): { done: Promise<"deadline">; cancel: () => void } => {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<"deadline">((resolve) => {
    handle = setTimeout(() => resolve("deadline"), Math.max(0, ms));
  });
  return { done, cancel: () => clearTimeout(handle) };
};

/** Wait until boxinit has no children left, or the deadline; true when none are left. */
export const waitForNoChildren = (reaper: StopReaper, deadline: number): Promise<boolean> =>
  new Promise((resolve) => {
    reaper.sweep();
    if (!reaper.hasChildren()) return resolve(true);
    const cleanups: Array<() => void> = [];
    const finish = (noneLeft: boolean) => {
      for (const cleanup of cleanups) cleanup();
      resolve(noneLeft);
    };
    const wait = timer(deadline - monotonicMs());
    cleanups.push(wait.cancel);
    void wait.done.then(() => finish(!reaper.hasChildren()));
    cleanups.push(reaper.onNoChildren(() => finish(true)));
    if (!reaper.canReap) {
      const poll = setInterval(() => reaper.sweep(), NO_ADDON_POLL_MS);
      cleanups.push(() => clearInterval(poll));
    }
  });

const waitForMain = async (ended: Promise<Ending>, until: number): Promise<boolean> =>
  (await settleBefore(ended, until)) !== undefined;

// Phase "main": the signal to the main command's group, then wait for it.
// Returns false when it overran. Processes outside its group keep the reserve.
const stopMain = async (context: StopContext, request: Required<Pick<StopRequest, "main" | "signal">> & StopRequest): Promise<boolean> => {
  const { log, signals = SEND_SIGNAL } = context;
  const { main, signal, deadline, reserveMs } = request;
  // One log line either way: log readers (and the tests) follow the same steps.
  const result = main.isSignalSent ? "sent by the signal handler" : signals.signalGroup(main.pgid, signal);
  log.info("shutdown", "signalled the main command's process group", { pgid: main.pgid, signal: signalLabel(signal), result });
  if (await waitForMain(main.ended, deadline - reserveMs)) return true;
  const live = signals.liveDescendants();
  if (live.every((entry) => entry.pgrp === main.pgid)) return waitForMain(main.ended, deadline);
  log.warn("phase-overran", "the main command did not exit in time; SIGKILL to its group so the processes left get SIGTERM and the rest of the budget", {
    phase: "main",
    budgetLeft: formatDurationMs(Math.max(0, deadline - monotonicMs())),
  });
  for (const entry of signals.killGroup(main.pgid)) log.warn("killed", "sent SIGKILL", { pid: entry.pid, comm: entry.comm });
  return true;
};

/** Run the budget to its end; resolves when nothing is left (or nothing more can be done). */
export const stopAll = async (context: StopContext, request: StopRequest): Promise<void> => {
  const { log, reaper, scope, signals = SEND_SIGNAL } = context;
  const { main, signal, deadline } = request;
  let overran: StopPhase | undefined;

  if (main && signal !== undefined && !(await stopMain(context, { ...request, main, signal }))) overran = "main";

  if (overran === undefined && reaper.hasChildren()) {
    const left = signals.signalEverythingLeft(scope, SIGNAL_NUMBERS.SIGTERM!);
    if (left.length > 0) {
      log.info("shutdown", "sent SIGTERM to the processes left", {
        count: left.length,
        pids: left.map((entry) => entry.pid),
        budgetLeft: formatDurationMs(Math.max(0, deadline - monotonicMs())),
      });
    }
    if (!(await waitForNoChildren(reaper, deadline))) overran = "remaining";
  }

  if (overran === undefined) return;
  const killed = signals.signalEverythingLeft(scope, SIGNAL_NUMBERS.SIGKILL!);
  log.warn("phase-overran", overran === "main"
    ? "the main command did not exit within the grace period"
    : "processes left (not the main command nor a service) did not exit within the grace period", { phase: overran });
  for (const entry of killed) log.warn("killed", "sent SIGKILL", { pid: entry.pid, comm: entry.comm });
  if (!(await waitForNoChildren(reaper, monotonicMs() + AFTER_KILL_WAIT_MS))) {
    log.error("shutdown", "processes survived SIGKILL (uninterruptible sleep?); exiting without them");
  }
};

// The one budget in Mini-VM mode: the main command and running jobs first, then services in
// reverse start order (stop command and/or stop signal), then finish scripts, then
// SIGTERM to everything left and SIGKILL at the deadline. Each phase ends as
// soon as its processes are gone; a phase that overruns is named in the log.
// It stops what it is given (Stoppable, the finish scripts' run) and imports
// nothing of supervisor/: modes/mini-vm.ts joins the two.
import type { Logger } from "../log/logger.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { Ending } from "../pid1/exit-code.ts";
import { liveDescendants } from "../pid1/proc-table.ts";
import { killGroup, signalGroup, type KillScope } from "../pid1/send-signal.ts";
import { signalLabel } from "../pid1/signals.ts";
import { formatDurationMs } from "../config/duration.ts";
import { monotonicMs, settleBefore } from "../time/clock.ts";
import { stopAll } from "./stop-all.ts";

// Kept back from the services for the finish scripts and the processes left:
// a service that ignores its stop signal must not eat the whole budget.
const RESERVE_MAX_MS = 2000;

// At most this much is kept for each service stopped later.
const LATER_SERVICE_SLICE_MAX_MS = 1000;

/** The time kept back for each service stopped after the current one: min(1 s, half an equal share). */
export const laterServiceSliceMs = (servicesBudgetMs: number, serviceCount: number): number =>
  serviceCount <= 1 ? 0 : Math.min(LATER_SERVICE_SLICE_MAX_MS, Math.max(0, servicesBudgetMs) / (2 * serviceCount));

/** The part of the budget the services may not use. */
export const boxReserveMs = (graceMs: number): number => Math.min(RESERVE_MAX_MS, graceMs / 4);

/** A process stopped before the services: its group gets the signal, then SIGKILL at its limit. */
export interface GroupToStop {
  pgid: number;
  ended: Promise<Ending>;
  signal: number;
}

/** Something stopped in the services' phase (a service): its own stop, within a deadline. */
export interface Stoppable {
  readonly name: string;
  /** Stop by the monotonicMs() deadline; stopCode: its stop command's exit code; killed: what got SIGKILL. */
  stop(deadline: number): Promise<{ stopCode?: number; killed: ReadonlyArray<{ pid: number; comm: string }> }>;
}

/**
 * The finish scripts, listed when their turn comes: undefined when there are
 * none, else their run. onStarted hears of each script started; none is
 * started once isOverTime() says the time is up.
 */
export type FinishScripts = (onStarted: (started: { pid: number }) => void, isOverTime: () => boolean) => Promise<unknown> | undefined;

/**
 * What the stop produced. The shape supervisor/box-states.ts's finalOutcome
 * reads (StopResults there): kept apart so that neither folder imports the
 * other; TypeScript checks that the two agree where modes/mini-vm.ts passes
 * one as the other.
 */
export interface BoxStopResults {
  /** Exit codes of the stop commands that ran. */
  stopCodes: number[];
  /** Whether anything had to be killed at a deadline. */
  hasKilled: boolean;
  /** The main command's ending when the stop waited for it. */
  mainEnding?: Ending;
}

export interface BoxStopPlan {
  main?: GroupToStop;
  /** An init script still running (the stop came during boot). */
  initScript?: GroupToStop;
  /** Scheduled jobs still running: stopped first, beside the main command. */
  jobs?: { stop(until: number): Promise<void> };
  /** In start order; stopped in reverse. */
  services: readonly Stoppable[];
  finishScripts: FinishScripts;
  deadline: number;
  reserveMs: number;
}

export interface BoxStopContext {
  log: Logger;
  reaper: Reaper;
  scope: KillScope;
}


// SIGKILL to a group, each member named in the log; whether there was anyone.
const killAndLog = (pgid: number, phase: string, log: Logger): boolean => {
  const group = killGroup(pgid);
  for (const entry of group) log.warn("killed", "sent SIGKILL", { phase, pid: entry.pid, comm: entry.comm });
  return group.length > 0;
};

const stopGroup = async (group: GroupToStop, phase: "main" | "init", until: number, context: BoxStopContext): Promise<{ ending?: Ending; hasKilled: boolean }> => {
  const { log } = context;
  const what = phase === "main" ? "the main command" : "the init script";
  const result = signalGroup(group.pgid, group.signal);
  log.info("shutdown", `signalled ${what}'s process group`, { pgid: group.pgid, signal: signalLabel(group.signal), result });
  const ending = await settleBefore(group.ended, until);
  if (ending) return { ending, hasKilled: false };
  log.warn("phase-overran", `${what} did not exit in time`, { phase, budgetLeft: formatDurationMs(Math.max(0, until - monotonicMs())) });
  const hasKilled = killAndLog(group.pgid, phase, log);
  return { ending: await settleBefore(group.ended, monotonicMs() + 1000), hasKilled };
};

/** Spend the budget; resolves with what the stop produced. */
export const stopBox = async (plan: BoxStopPlan, context: BoxStopContext): Promise<BoxStopResults> => {
  const { log } = context;
  const results: BoxStopResults = { stopCodes: [], hasKilled: false };
  const servicesUntil = plan.deadline - plan.reserveMs;

  // The main command and a running init script are stopped first; like a
  // service, each leaves a slice for every service stopped after it.
  const firstSliceMs = laterServiceSliceMs(servicesUntil - monotonicMs(), plan.services.length + 1);
  const firstUntil = servicesUntil - plan.services.length * firstSliceMs;
  // Jobs may need the services (a database): they stop before any service
  // does, at the same time as the main command. Their results are their own:
  // they do not change the box's exit code.
  const jobsStopped = plan.jobs?.stop(firstUntil);
  if (plan.main) {
    const main = await stopGroup(plan.main, "main", firstUntil, context);
    results.mainEnding = main.ending;
    results.hasKilled ||= main.hasKilled;
  }
  if (plan.initScript) results.hasKilled = (await stopGroup(plan.initScript, "init", firstUntil, context)).hasKilled || results.hasKilled;
  await jobsStopped;

  // Each service still to be stopped keeps a slice of the services' part of
  // the budget, so one that ignores its stop signal cannot leave the ones
  // after it (a database the app depended on) an instant SIGKILL. A prompt
  // stop hands its unused time on to the next.
  const order = [...plan.services].reverse();
  const sliceMs = laterServiceSliceMs(servicesUntil - monotonicMs(), order.length);
  for (const [index, service] of order.entries()) {
    const later = order.length - 1 - index;
    const outcome = await service.stop(servicesUntil - later * sliceMs);
    if (outcome.stopCode !== undefined) results.stopCodes.push(outcome.stopCode);
    if (outcome.killed.length > 0) {
      results.hasKilled = true;
      for (const entry of outcome.killed) log.warn("killed", "sent SIGKILL", { phase: "services", service: service.name, pid: entry.pid, comm: entry.comm });
    }
  }

  const finishUntil = plan.deadline - plan.reserveMs / 2;
  let current: { pid: number } | undefined;
  const isOverTime = (): boolean => monotonicMs() >= finishUntil;
  const run = plan.finishScripts((started) => {
    current = started;
  }, isOverTime);
  if (run) {
    // No script is started once the time is up (isOverTime); the one running then is killed.
    const isDone = await settleBefore(run.then(() => true), finishUntil);
    if (isDone === undefined && current) {
      log.warn("phase-overran", "finish scripts did not complete in time", { phase: "finish" });
      results.hasKilled = killAndLog(current.pid, "finish", log) || results.hasKilled;
    }
  }

  // Everything left: daemons nobody tracked, orphans of scripts.
  const before = liveDescendants().length;
  await stopAll({ log, reaper: context.reaper, scope: context.scope }, { deadline: plan.deadline, reserveMs: 0 });
  if (before > 0 && monotonicMs() >= plan.deadline) results.hasKilled = true;
  return results;
};

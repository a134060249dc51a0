// Stopping a service's processes: its stop command, its stop signal to the
// group it runs in, SIGKILL at the deadline; and forwarding other signals to
// it. Every signal goes through pid1/send-signal.ts (here by way of
// ServiceSignals, which tests replace with a fake).
import type { Logger } from "../log/logger.ts";
import type { ServiceConfig } from "../config/types.ts";
import { EXIT, exitCodeFor, type Ending } from "../pid1/exit-code.ts";
import { killGroup, signalGroup, signalProcess, type SendResult } from "../pid1/send-signal.ts";
import { liveDescendants, type ProcEntry } from "../pid1/proc-table.ts";
import { signalLabel } from "../pid1/signals.ts";
import { monotonicMs, settleBefore } from "../time/clock.ts";
import { describeEnding } from "./restart-policy.ts";
import type { NotStarted, Started } from "../pid1/start-process.ts";
import type { MovableDeadline, StartTrace, stopLeftovers } from "./start-leftovers.ts";

// SIGKILL's number (Linux): a literal keeps the signal table out of this module's imports.
const SIGKILL = 9;
const AFTER_KILL_WAIT_MS = 1000;

/** What a stop did, for the shutdown's exit code and log. */
export interface StopOutcome {
  /** The stop command's exit code, when there is one and it ended. */
  stopCode?: number;
  /** Processes that got SIGKILL at the deadline. */
  killed: ProcEntry[];
}

/** The signals a service sends and who is there to get them; the real ones are send-signal.ts's. */
export interface ServiceSignals {
  signalGroup: (pgid: number, signal: number) => SendResult;
  signalProcess: (pid: number, signal: number) => SendResult;
  /** SIGKILL a group; who was in it. */
  killGroup: (pgid: number) => ProcEntry[];
  liveDescendants: () => ProcEntry[];
}

/** The real ones. */
export const SEND_SIGNAL: ServiceSignals = { signalGroup, signalProcess, killGroup, liveDescendants };

/** The process a service follows and the group its signals go to (undefined: the pid alone). */
export interface Target {
  pid: number;
  pgid: number | undefined;
}

/** SIGKILL to a group (or a lone pid) and say who was in it. */
export const killNow = (target: Target, signals: ServiceSignals): ProcEntry[] => {
  if (target.pgid !== undefined) return signals.killGroup(target.pgid);
  const live = signals.liveDescendants().filter((entry) => entry.pid === target.pid);
  // "gone": it went by itself in the meantime.
  signals.signalProcess(target.pid, SIGKILL);
  return live;
};

/** A signal to the target's group, or to it alone; never throws (its end is handled where it is followed). */
export const forwardTo = (target: Target, signal: number, signals: ServiceSignals): SendResult | string => {
  try {
    return target.pgid !== undefined ? signals.signalGroup(target.pgid, signal) : signals.signalProcess(target.pid, signal);
  } catch (error) {
    // Neither ESRCH nor EPERM (those are results): named for the log, not thrown into the stop.
    return (error as NodeJS.ErrnoException).code ?? "failed";
  }
};

/** The service's stop signal to the target, logged with what kill(2) said. */
export const sendStopSignal = (service: string, target: Target, signal: number, log: Logger, signals: ServiceSignals): void => {
  const result = forwardTo(target, signal, signals);
  log.info("shutdown", `sent ${signalLabel(signal)} to service ${service}`, { service, pid: target.pid, pgid: target.pgid, result });
};

/** What running a stop command needs from the service. */
export interface StopCommandRun {
  service: string;
  log: Logger;
  signals: ServiceSignals;
  /** Start a process as the service's (its environment, directory, user, output). */
  start: (argv: readonly string[]) => Started | NotStarted;
  /** The stop command could not be run: the stop signal goes to the service instead. */
  onCannotRun: () => void;
}

/** Run a stop command until the deadline (then SIGKILL to its group); its exit code. */
export const runStopCommand = async (run: StopCommandRun, argv: readonly string[], deadline: number, outcome: StopOutcome): Promise<number | undefined> => {
  const { service, log } = run;
  const started = run.start(argv);
  if ("problem" in started) {
    log.error("spawn-failed", `service ${service}: cannot run the stop command ${started.problem}; sending its stop signal instead`, { service });
    run.onCannotRun();
    return started.exitCode;
  }
  log.info("shutdown", `running the stop command of service ${service}`, { service, pid: started.pid, command: [...argv] });
  const ending = await settleBefore(started.ended, deadline);
  if (ending === undefined) {
    log.warn("phase-overran", `the stop command of service ${service} did not finish in time`, { service, phase: "services" });
    outcome.killed.push(...killNow({ pid: started.pid, pgid: started.pid }, run.signals));
    return EXIT.killed;
  }
  const code = exitCodeFor(ending);
  log.log(code === 0 ? "info" : "warn", "shutdown", `the stop command of service ${service} ${describeEnding(ending)}`, { service, code });
  return code;
};

/**
 * A start in progress when the stop came: a failed start's cleanup (its
 * deadline brought forward to the stop's: that is this service's stop now),
 * or a start command still running (boot interrupted: it is what there is to
 * stop; its group gets the stop signal, SIGKILL at the deadline).
 */
export const stopStartInProgress = async (
  start: { cleanup?: { done: Promise<unknown>; deadline: MovableDeadline }; starter?: { pid: number; ended: Promise<Ending> } },
  signal: number,
  deadline: number,
  signals: ServiceSignals,
): Promise<ProcEntry[]> => {
  const { cleanup, starter } = start;
  if (cleanup) {
    cleanup.deadline.at = Math.min(cleanup.deadline.at, deadline);
    await settleBefore(cleanup.done, deadline + AFTER_KILL_WAIT_MS);
  }
  if (!starter) return [];
  signals.signalGroup(starter.pid, signal);
  if ((await settleBefore(starter.ended, deadline)) !== undefined) return [];
  return killNow({ pid: starter.pid, pgid: starter.pid }, signals);
};

/** What stopping the followed process needs from the service. */
export interface FollowedStop {
  target: Target;
  ended: Promise<Ending>;
  config: Pick<ServiceConfig, "stop" | "stopSignal">;
  /** Whether the target still runs as this service's (a stop command may have ended it). */
  isStillRunning: () => boolean;
  run: StopCommandRun;
}

/**
 * The stop command (then the stop signal if it still runs) or the stop
 * signal; SIGKILL at the deadline. Returns its ending when it came in time.
 */
export const stopFollowed = async (stop: FollowedStop, deadline: number, outcome: StopOutcome): Promise<Ending | undefined> => {
  const { target, run } = stop;
  const signal = stop.config.stopSignal;
  if (stop.config.stop) {
    outcome.stopCode = await runStopCommand(run, stop.config.stop, deadline, outcome);
    // A stop command that returned while the service still runs (it only
    // asked, or it failed): the stop signal follows, as runit and s6 do.
    if (stop.isStillRunning()) sendStopSignal(run.service, target, signal, run.log, run.signals);
  } else {
    sendStopSignal(run.service, target, signal, run.log, run.signals);
  }
  const ending = await settleBefore(stop.ended, deadline);
  if (ending !== undefined) return ending;
  run.log.warn("phase-overran", `service ${run.service} did not stop in time`, { service: run.service, phase: "services" });
  outcome.killed.push(...killNow(target, run.signals));
  // SIGKILL is not refused: a second at most for the kernel to tear it down.
  await settleBefore(stop.ended, monotonicMs() + AFTER_KILL_WAIT_MS);
  return undefined;
};

/**
 * Stop what a start that did not come up left behind, so that a retry starts
 * clean: its stop command (two thirds of the budget), then the stop signal to
 * the leftovers, SIGKILL only at the deadline (a stop arriving meanwhile may
 * bring the deadline forward: MovableDeadline).
 */
export const stopFailedStart = (
  run: StopCommandRun,
  config: Pick<ServiceConfig, "stop" | "stopSignal">,
  trace: StartTrace | undefined,
  budgetMs: number,
  leftovers: typeof stopLeftovers,
): { done: Promise<unknown>; deadline: MovableDeadline } => {
  const deadline: MovableDeadline = { at: monotonicMs() + budgetMs };
  const done = (async () => {
    if (config.stop) {
      const stopCommandDeadline = monotonicMs() + (budgetMs * 2) / 3;
      await runStopCommand(run, config.stop, Math.min(stopCommandDeadline, deadline.at), { killed: [] });
    }
    if (trace) await leftovers(trace, config.stopSignal, deadline, run.log);
  })();
  return { done, deadline };
};

// A service's side of the restart decision: what it remembers across runs
// (restarts in a row, the first failure of a series), the decision of
// restart-policy.ts's pure core applied to it, and the log line that says so.
// Pure: the service (service.ts) owns the timers and the state moves.
import type { Level } from "../log/logger.ts";
import type { ServiceConfig } from "../config/types.ts";
import type { ServiceStatus } from "../control/status-file.ts";
import type { Ending } from "../pid1/exit-code.ts";
import { signalLabel } from "../pid1/signals.ts";
import { formatDurationMs } from "../config/duration.ts";
import { decideAfterExit, describeEnding, nextRestartDelayMs, type ExitDecision } from "./restart-policy.ts";
import { isoTime } from "../time/iso-time.ts";

/** What a service remembers across its runs for the decision. */
export interface RestartCount {
  /** Restarts in a row without a run of stable_after in between. */
  consecutiveRestarts: number;
  /** The first failure of the current series: the cause worth reporting. */
  firstFailure: string | undefined;
}

/** Why a run ended when its ending alone does not say. */
export interface ExitWhy {
  /** It cannot be run at all: give up whatever the policy. */
  cannotRun?: string;
  /** The start did not come up: this is its failure, not the ending's words. */
  problem?: string;
}

/** What to do after a run ended, and the line that says so. */
export interface AfterExit {
  decision: ExitDecision;
  /** The count to keep from now on. */
  count: RestartCount;
  line: { level: Level; message: string };
}

type RestartSettings = Pick<ServiceConfig, "name" | "restart" | "maxRestarts" | "stableAfterMs" | "restartDelayMs" | "restartMaxDelayMs">;

/** status.json's lastExit for an ending, at the time given. */
export const lastExitOf = (ending: Ending, at: Date = new Date()): NonNullable<ServiceStatus["lastExit"]> =>
  ({ code: ending.code, signal: ending.signal === null ? null : signalLabel(ending.signal), at: isoTime(at.getTime()) });

/** The decision after a run that lasted ranForMs ended, and its log line. */
export const afterExit = (config: RestartSettings, count: RestartCount, ending: Ending, ranForMs: number, why: ExitWhy, isStopping: boolean): AfterExit => {
  // A run that lasted ends a series of failures; the first of a new series is its cause.
  const isNewSeries = count.consecutiveRestarts === 0 || ranForMs >= config.stableAfterMs;
  const firstFailure = isNewSeries ? (why.problem ?? describeEnding(ending)) : count.firstFailure;
  const decision: ExitDecision = why.cannotRun
    ? { action: "give-up", reason: `${describeEnding(ending)}: ${why.cannotRun}` }
    : decideAfterExit({
        policy: config.restart,
        ending,
        ranForMs,
        consecutiveRestarts: count.consecutiveRestarts,
        maxRestarts: config.maxRestarts,
        stableAfterMs: config.stableAfterMs,
        restartDelayMs: config.restartDelayMs,
        restartMaxDelayMs: config.restartMaxDelayMs,
        isStopping,
      });
  if (decision.action === "restart") {
    return {
      decision,
      count: { consecutiveRestarts: decision.consecutiveRestarts, firstFailure },
      line: { level: "warn", message: `service ${config.name} ${describeEnding(ending)}; restarting in ${formatDurationMs(decision.delayMs)}` },
    };
  }
  const isGivingUp = decision.action === "give-up";
  const firstCause = isGivingUp && firstFailure !== undefined && firstFailure !== why.problem ? ` (the first failure of this series: ${firstFailure})` : "";
  return {
    decision,
    count: { consecutiveRestarts: count.consecutiveRestarts, firstFailure },
    line: {
      level: isGivingUp || ending.code !== 0 ? "error" : "info",
      message: `service ${config.name}: ${decision.reason}${isGivingUp ? `; giving up${firstCause}` : ""}`,
    },
  };
};

/**
 * Not started because boxinit ran short of fds, processes or memory: not the
 * service's failure, so neither its restart policy nor its restart count
 * applies (nothing ran). Tried again after its restart delay, doubled for
 * each shortage in a row up to restart_max_delay.
 */
export const shortageDelayMs = (config: Pick<ServiceConfig, "restartDelayMs" | "restartMaxDelayMs">, shortagesInRow: number): number =>
  nextRestartDelayMs(shortagesInRow, config.restartDelayMs, config.restartMaxDelayMs);

/**
 * A service's restarts across its runs: the count status.json shows, what
 * the next decision reads, the shortages in a row, and the timer of the
 * next start (one at a time).
 */
export class Restarts {
  /** Restarts done (status.json's restarts). */
  done = 0;
  #count: RestartCount = { consecutiveRestarts: 0, firstFailure: undefined };
  #shortagesInRow = 0;
  #timer: NodeJS.Timeout | undefined;

  /** Starts in a row that a shortage of boxinit's own resources prevented. */
  get shortagesInRow(): number {
    return this.#shortagesInRow;
  }

  /** The decision after a run ended (afterExit); its count is kept for the next one. */
  decide(config: RestartSettings, ending: Ending, ranForMs: number, why: ExitWhy, isStopping: boolean): AfterExit {
    const after = afterExit(config, this.#count, ending, ranForMs, why, isStopping);
    this.#count = after.count;
    return after;
  }

  /** One more shortage in a row: the delay before the next try. */
  shortage(config: Pick<ServiceConfig, "restartDelayMs" | "restartMaxDelayMs">): number {
    return shortageDelayMs(config, this.#shortagesInRow++);
  }

  /** A start went through: the shortages in a row are over. */
  started(): void {
    this.#shortagesInRow = 0;
  }

  /** Call due after delayMs, unless cancelled first. */
  schedule(delayMs: number, due: () => void): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      due();
    }, delayMs);
  }

  /** Drop the pending start, if any. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

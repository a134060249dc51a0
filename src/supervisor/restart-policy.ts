// What to do when a service's process ends: restart it after a delay, leave it
// stopped, or give up on it. Pure functions: the supervisor owns the timers.
import type { RestartPolicy } from "../config/types.ts";
import type { Ending } from "../pid1/exit-code.ts";
import { formatDurationMs } from "../config/duration.ts";
import { signalLabel } from "../pid1/signals.ts";

/** Everything one decision depends on; delays and durations in milliseconds. */
export interface ExitFacts {
  policy: RestartPolicy;
  ending: Ending;
  /** How long the run that just ended lasted. */
  ranForMs: number;
  /** Restarts in a row so far, without a run of stableAfterMs in between. */
  consecutiveRestarts: number;
  maxRestarts: number;
  stableAfterMs: number;
  restartDelayMs: number;
  restartMaxDelayMs: number;
  /** boxinit is shutting down or the service is being stopped on purpose. */
  isStopping: boolean;
}

export type ExitDecision =
  | { action: "restart"; delayMs: number; consecutiveRestarts: number }
  | { action: "done"; reason: string }
  | { action: "give-up"; reason: string };

/** Delay before a restart: base doubled per consecutive restart, capped (0 → base, 1 → 2×base). */
export const nextRestartDelayMs = (consecutiveRestarts: number, baseMs: number, maxMs: number): number => {
  // 2 ** 1100 is Infinity, which Math.min turns back into the cap: no overflow to guard.
  const delayMs = baseMs * 2 ** Math.max(0, consecutiveRestarts);
  return Math.max(0, Math.min(maxMs, delayMs));
};

/** A process end in words: "exited with code 3", "was killed by SIGKILL". */
export const describeEnding = (ending: Ending): string => {
  if (ending.code !== null) return `exited with code ${ending.code}`;
  if (ending.signal !== null) return `was killed by ${signalLabel(ending.signal)}`;
  return "ended in an unknown way";
};

// Anything but a clean exit 0 is a failure, including an ending with neither
// code nor signal (should not happen; restarting is the safer reading).
const isFailure = (ending: Ending): boolean => ending.code !== 0;

/** Restart, done or give up, after a service's process ended. */
export const decideAfterExit = (facts: ExitFacts): ExitDecision => {
  const ended = describeEnding(facts.ending);
  if (facts.isStopping) return { action: "done", reason: `${ended} while stopping` };
  // A run that lasted counts as a recovery: the count (and the delay) start over.
  const isStableRun = facts.ranForMs >= facts.stableAfterMs;
  const consecutive = isStableRun ? 0 : facts.consecutiveRestarts;
  if (facts.policy === "no") return { action: "done", reason: `${ended}; restart: no` };
  if (facts.policy === "on-failure" && !isFailure(facts.ending)) {
    return { action: "done", reason: `${ended}; restart: on-failure restarts only after a failure` };
  }
  if (consecutive >= facts.maxRestarts) {
    const stable = formatDurationMs(facts.stableAfterMs);
    return {
      action: "give-up",
      reason: `${ended} after ${consecutive} restarts in a row (max_restarts: ${facts.maxRestarts}; a run of ${stable} resets the count)`,
    };
  }
  return {
    action: "restart",
    delayMs: nextRestartDelayMs(consecutive, facts.restartDelayMs, facts.restartMaxDelayMs),
    consecutiveRestarts: consecutive + 1,
  };
};

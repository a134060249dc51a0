// A service's warm-up as the service sees it: the checks run as the service
// would (its environment, directory and user), and what their outcome means
// for it (on_timeout: continue or fail). The tries themselves are warmup.ts's.
import type { Logger } from "../log/logger.ts";
import type { ServiceConfig, WarmupConfig } from "../config/types.ts";
import { formatDurationMs } from "../config/duration.ts";
import { environmentFor } from "../pid1/start-process.ts";
import type { ServiceSystem } from "./service-context.ts";
import type { WarmupOutcome } from "./warmup.ts";

/** What the warm-up means for the service: running, nothing (a stop came), or a failed start. */
export type WarmupVerdict = { kind: "ready" } | { kind: "aborted" } | { kind: "failed"; problem: string };

/** Run the warm-up's tries until one passes, the timeout, or the abort. */
export const runServiceWarmup = (system: ServiceSystem, config: ServiceConfig, warmup: WarmupConfig, log: Logger, signal: AbortSignal): Promise<WarmupOutcome> =>
  system.runWarmup(warmup, {
    service: config.name,
    log,
    signal,
    env: environmentFor(config),
    cwd: config.cwd,
    user: process.getuid?.() === 0 ? config.user : undefined,
    startCheck: system.startCheck,
  });

/** The verdict on an outcome, logged when the warm-up did not pass (on_timeout: continue is a warning). */
export const judgeWarmup = (outcome: WarmupOutcome, service: string, warmup: WarmupConfig, log: Logger): WarmupVerdict => {
  if (outcome.outcome === "ready" || outcome.outcome === "aborted") return { kind: outcome.outcome };
  const problem = `warm-up did not pass within ${formatDurationMs(warmup.timeoutMs)} (${outcome.tries} tries; last: ${outcome.lastProblem})`;
  if (warmup.onTimeout === "continue") {
    log.warn("warmup", `service ${service}: ${problem}; on_timeout: continue`, { service });
    return { kind: "ready" };
  }
  log.error("warmup", `service ${service}: ${problem}`, { service });
  return { kind: "failed", problem };
};

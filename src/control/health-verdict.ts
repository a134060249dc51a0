// The two questions a probe asks of status.json, as pure rules shared by
// `boxinit health` and `boxinit host status`: is PID 1 alive and managing the
// box (--live), and is the application ready to serve (--ready)?
import { escapeControls } from "./backoff.ts";
import { COMING_BACK_STATES } from "./status-file.ts";
import { aheadOfNowMs, ageMs, formatAge, JOBS_ONLY_STATE, maxAgeFor, type StatusDocument } from "./status-read.ts";

export type HealthMode = "live" | "ready";

export interface HealthVerdict {
  isHealthy: boolean;
  /** One line for people (and Docker's health log), without the healthy/unhealthy word. */
  why: string;
}

// States in which a PID 1 that is still writing manages the box. backedoff is
// one of them only while PID 1 stays up (an idle backoff): status.json then has
// no exitCode, which PID 1 writes once, as it exits.
const LIVE_STATES: ReadonlySet<string> = new Set(["starting", "warming", "running", "degraded", "stopping", "backedoff"]);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** "app (restarting), db (warming)": the services of a document that are on their way back. */
const servicesComingBack = (services: unknown): string => {
  if (!isRecord(services)) return "";
  return Object.entries(services)
    .filter(([, service]) => isRecord(service) && typeof service.state === "string" && COMING_BACK_STATES.has(service.state))
    .map(([name, service]) => `${escapeControls(name)} (${escapeControls(String((service as Record<string, unknown>).state))})`)
    .join(", ");
};

/** Why the heartbeat is not fresh enough, or undefined when it is. */
const heartbeatProblem = (document: StatusDocument, nowMs: number, maxAgeMs: number): string | undefined => {
  const age = ageMs(document.updatedAt, nowMs);
  if (age === undefined) return "status.json has no valid updatedAt";
  const ahead = aheadOfNowMs(document.updatedAt, nowMs);
  if (ahead > 0) return `status is stale: updatedAt is ${formatAge(ahead)} in the future (the clock was set back since it was written, or boxinit did not write it): a heartbeat from the future proves nothing`;
  if (age > maxAgeMs) return `status is stale: updated ${formatAge(age)} ago, more than ${formatAge(maxAgeMs)} (boxinit frozen or gone?)`;
  return undefined;
};

const updatedText = (document: StatusDocument, nowMs: number): string => `updated ${formatAge(ageMs(document.updatedAt, nowMs) ?? 0)} ago`;

/**
 * --ready: healthy only in `running` with a fresh heartbeat. Not in
 * `degraded` (a critical service is down), nor while booting or stopping.
 */
const judgeReady = (document: StatusDocument, nowMs: number, maxAgeMs: number): HealthVerdict => {
  const state = escapeControls(document.state);
  if (document.state !== "running") {
    const down = document.state === "degraded" ? servicesComingBack(document.services) : "";
    return { isHealthy: false, why: `state is ${state}, not running${down === "" ? "" : `: down: ${down}`}` };
  }
  const stale = heartbeatProblem(document, nowMs, maxAgeMs);
  if (stale !== undefined) return { isHealthy: false, why: stale };
  return { isHealthy: true, why: `running, ${updatedText(document, nowMs)}` };
};

/**
 * --live: healthy while PID 1 manages the box and its heartbeat is fresh:
 * booting, running, degraded, stopping, or idle in backoff. Not once PID 1
 * has ended (stopped, failed, an exit code written) or stopped writing.
 */
const judgeLive = (document: StatusDocument, nowMs: number, maxAgeMs: number): HealthVerdict => {
  const state = escapeControls(document.state);
  if (document.state === JOBS_ONLY_STATE) return { isHealthy: false, why: "no boxinit PID 1 has written here (only batch jobs have)" };
  if (document.exitCode !== undefined || document.state === "stopped" || document.state === "failed") {
    const code = document.exitCode === undefined ? "" : `, exit code ${escapeControls(String(document.exitCode))}`;
    return { isHealthy: false, why: `boxinit has ended: state ${state}${code}` };
  }
  if (!LIVE_STATES.has(document.state)) return { isHealthy: false, why: `state is ${state}: boxinit is not managing the box` };
  const stale = heartbeatProblem(document, nowMs, maxAgeMs);
  if (stale !== undefined) return { isHealthy: false, why: stale };
  return { isHealthy: true, why: `${state}, ${updatedText(document, nowMs)}` };
};

/** The verdict of one health mode on a status document at a given time (pure). */
export const judgeHealth = (mode: HealthMode, document: StatusDocument, nowMs: number, maxAgeMs = maxAgeFor(document)): HealthVerdict =>
  mode === "live" ? judgeLive(document, nowMs, maxAgeMs) : judgeReady(document, nowMs, maxAgeMs);

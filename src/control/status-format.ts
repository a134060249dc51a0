// The human view of a status document (`boxinit status`, `boxinit host
// status`): pure, from the document and the time. Every value is escaped: the
// file is anyone's to write who can reach the state directory.
import { formatDurationMs } from "../config/duration.ts";
import { escapeControls } from "./backoff.ts";
import { aheadOfNowMs, ageMs, formatAge, isStale, JOBS_ONLY_STATE, maxAgeFor, type StatusDocument } from "./status-read.ts";

// Values come from a file anyone with access to the directory can write.
const show = (value: unknown): string => (value === undefined || value === null ? "-" : escapeControls(String(value)));

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const lastExitText = (lastExit: unknown): string => {
  if (!isRecord(lastExit)) return "none";
  const how = lastExit.signal !== null && lastExit.signal !== undefined ? `signal ${show(lastExit.signal)}` : `code ${show(lastExit.code)}`;
  return lastExit.at === undefined ? how : `${how} at ${show(lastExit.at)}`;
};

const serviceLines = (services: unknown): string[] => {
  if (!isRecord(services) || Object.keys(services).length === 0) return ["services:  none"];
  const names = Object.keys(services);
  const width = Math.max(...names.map((name) => show(name).length));
  const lines = ["services:"];
  for (const name of names) {
    const service = services[name];
    const fields = isRecord(service) ? service : {};
    lines.push(
      `  ${show(name).padEnd(width)}  ${show(fields.state)}  pid ${show(fields.pid)}  restarts ${show(fields.restarts)}` +
        `  last exit: ${lastExitText(fields.lastExit)}  ready at ${show(fields.readyAt)}`,
    );
  }
  return lines;
};

const jobResultText = (job: Record<string, unknown>): string => {
  if (job.lastResult === "killed") return `last: killed (its boxinit ended without recording the end; started ${show(job.lastStart)})`;
  if (job.lastEnd === null || job.lastEnd === undefined) return job.running === true ? "first run in progress" : "never run";
  const how = job.lastResult === "ok" ? "ok" : `${show(job.lastResult)}, exit ${show(job.lastExit)}${job.lastSignal ? ` (${show(job.lastSignal)})` : ""}`;
  const took = typeof job.lastDurationMs === "number" ? ` after ${formatDurationMs(job.lastDurationMs)}` : "";
  return `last: ${how} at ${show(job.lastEnd)}${took}`;
};

const jobLines = (jobs: unknown): string[] => {
  if (!isRecord(jobs) || Object.keys(jobs).length === 0) return [];
  const names = Object.keys(jobs);
  const width = Math.max(...names.map((name) => show(name).length));
  const lines = ["jobs:"];
  for (const name of names) {
    const job = isRecord(jobs[name]) ? jobs[name] : {};
    const parts = [jobResultText(job), `runs ${show(job.runs)}, failures ${show(job.failures)}`];
    if (job.running === true) parts.unshift(`running since ${show(job.lastStart)}`);
    if (job.schedule !== undefined) parts.push(`next ${show(job.nextRun)} (${show(job.schedule)})`);
    lines.push(`  ${show(name).padEnd(width)}  ${parts.join("  ")}`);
    if (typeof job.logFile === "string") lines.push(`  ${"".padEnd(width)}  report: ${show(job.logFile)}`);
    if (isRecord(job.lastSkip)) lines.push(`  ${"".padEnd(width)}  last skipped at ${show(job.lastSkip.at)}: ${show(job.lastSkip.reason)}`);
  }
  return lines;
};

/** The human view of a status document at a given time (pure). */
export const formatStatus = (document: StatusDocument, nowMs: number, maxAgeMs = maxAgeFor(document)): string => {
  if (document.state === JOBS_ONLY_STATE) {
    return `${["state:     none (only batch jobs have written here; no boxinit PID 1 has)", ...jobLines(document.jobs)].join("\n")}\n`;
  }
  const sinceAge = ageMs(document.since, nowMs);
  const updatedAge = ageMs(document.updatedAt, nowMs);
  const ahead = aheadOfNowMs(document.updatedAt, nowMs);
  let updated = updatedAge === undefined ? "unknown" : ahead > 0 ? `${formatAge(ahead)} in the future` : `${formatAge(updatedAge)} ago`;
  if (ahead > 0 && isStale(document, nowMs, maxAgeMs)) {
    updated += " (stale: the clock was set back since it was written, or boxinit did not write it)";
  } else if (isStale(document, nowMs, maxAgeMs)) {
    updated += ` (stale: no heartbeat for over ${formatAge(maxAgeMs)}; boxinit may be frozen or gone)`;
  }
  const lines = [
    `state:     ${show(document.state)} since ${show(document.since)}${sinceAge === undefined ? "" : ` (${formatAge(sinceAge)})`}`,
    `updated:   ${updated}`,
    `pid:       ${show(document.pid)}`,
    `version:   ${show(document.version)}`,
    `backoff:   ${document.backoff === true ? "engaged" : "not engaged"}`,
  ];
  if (document.exitCode !== undefined) lines.push(`exit code: ${show(document.exitCode)}`);
  lines.push(...serviceLines(document.services), ...jobLines(document.jobs));
  return `${lines.join("\n")}\n`;
};

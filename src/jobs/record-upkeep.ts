// Upkeep of status.json's `jobs`, done by every job writer under the status
// lock: records of jobs not run for the retention period are removed (oldest
// first, and the oldest beyond MAX_JOB_RECORDS), and a record still "running"
// whose harness is provably gone is recorded as killed. Pure but for
// isRunnerGone, which looks the harness up in /proc.
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { processStartTime } from "../pid1/proc-table.ts";
import { isoTime } from "../time/iso-time.ts";

/** Who runs a job now: the harness (`boxinit job`, or PID 1 for a scheduled job), kept in the record while it runs. */
export interface Runner {
  pid: number;
  /** /proc/PID/stat start time in clock ticks: a reused pid has another. */
  startTime: string | null;
  /** readlink /proc/self/ns/pid ("pid:[4026531836]"): the pid means something only there. */
  pidNs: string | null;
  host: string;
  runId: string;
}

/**
 * Records kept at most. A record is about 0.5-1 KiB, so status.json stays far
 * below what its readers read (MAX_STATUS_JSON_BYTES, 16 MiB) even at this count.
 */
export const MAX_JOB_RECORDS = 10_000;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const timeOf = (value: unknown): number | undefined => {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

/** The last time a record shows the job was run or due: its last start, end or skip; undefined when it shows none. */
export const lastActivityMs = (record: unknown): number | undefined => {
  if (!isObject(record)) return undefined;
  const times = [timeOf(record.lastStart), timeOf(record.lastEnd), isObject(record.lastSkip) ? timeOf(record.lastSkip.at) : undefined]
    .filter((ms): ms is number => ms !== undefined);
  return times.length === 0 ? undefined : Math.max(...times);
};

// Never removed for its age: a run in progress, and a scheduled job. A box's
// clean stop sets every nextRun to null, so nextRun alone would let the next
// boot prune a monthly job that last ran 30 days and an hour ago, history
// and all; `schedule` stays on the record across stops (MAX_JOB_RECORDS still bounds them).
const isInUse = (record: unknown): boolean =>
  isObject(record) && (record.running === true || typeof record.nextRun === "string" || typeof record.schedule === "string");

export interface PruneOptions {
  /** Records whose last activity is older than this are removed (job_logs.max_age); Infinity or NaN: none for their age. */
  keepForMs: number;
  nowMs: number;
  /** The job being written: its record always stays. */
  current: string;
  maxRecords?: number;
}

export interface Removed {
  name: string;
  /** Its last activity (ISO), null when it showed none. */
  lastActivity: string | null;
}

interface Candidate {
  name: string;
  activityMs: number | undefined;
}

// Oldest first: timeless ones first (by name), then by time, then by name.
const byAge = (a: Candidate, b: Candidate): number =>
  (a.activityMs ?? -Infinity) - (b.activityMs ?? -Infinity) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The `count` oldest of candidates, oldest first: a scan per pick when few are wanted (the cap removes one a run), else a sort. */
const oldest = (candidates: Candidate[], count: number): Candidate[] => {
  if (count <= 0) return [];
  if (count >= candidates.length || count > 16) return candidates.sort(byAge).slice(0, count);
  const picked: Candidate[] = [];
  const taken = new Set<Candidate>();
  for (let i = 0; i < count; i++) {
    let best: Candidate | undefined;
    for (const candidate of candidates) if (!taken.has(candidate) && (best === undefined || byAge(candidate, best) < 0)) best = candidate;
    taken.add(best!);
    picked.push(best!);
  }
  return picked;
};

const removedEntry = (candidate: Candidate): Removed =>
  ({ name: candidate.name, lastActivity: candidate.activityMs === undefined ? null : isoTime(candidate.activityMs) });

/**
 * `jobs` without the records of jobs not run for keepForMs, then without the
 * oldest beyond maxRecords (a record showing no time counts as the oldest).
 * Kept records keep their order; `removed` is oldest first. Oldest first, a
 * timeless record goes while the count is over the limit, every expired one
 * goes (and counts), then timed ones while the count is still over: one scan
 * and a sort of what goes, not of everything (10,000 records at the cap).
 */
export const pruneRecords = (jobs: Record<string, unknown>, options: PruneOptions): { jobs: Record<string, unknown>; removed: Removed[] } => {
  const maxRecords = options.maxRecords ?? MAX_JOB_RECORDS;
  const names = Object.keys(jobs);
  let excess = names.length - maxRecords;
  // NaN and Infinity: nothing expires.
  const canExpire = options.keepForMs < Infinity;
  if (!canExpire && excess <= 0) return { jobs, removed: [] };
  const timeless: Candidate[] = [];
  const expired: Candidate[] = [];
  const young: Candidate[] = [];
  for (const name of names) {
    const record = jobs[name];
    if (name === options.current || isInUse(record)) continue;
    const activityMs = lastActivityMs(record);
    const candidate = { name, activityMs };
    if (activityMs === undefined) timeless.push(candidate);
    else if (canExpire && options.nowMs - activityMs > options.keepForMs) expired.push(candidate);
    else young.push(candidate);
  }
  const removed: Candidate[] = oldest(timeless, excess);
  excess -= removed.length;
  removed.push(...expired.sort(byAge));
  excess -= expired.length;
  removed.push(...oldest(young, excess));
  if (removed.length === 0) return { jobs, removed: [] };
  const gone = new Set(removed.map((candidate) => candidate.name));
  return { jobs: Object.fromEntries(Object.entries(jobs).filter(([name]) => !gone.has(name))), removed: removed.map(removedEntry) };
};

/** A runner as stored, or undefined when it is not one. */
export const runnerOf = (value: unknown): Runner | undefined => {
  if (!isObject(value) || !Number.isInteger(value.pid) || typeof value.host !== "string") return undefined;
  return {
    pid: value.pid as number,
    startTime: typeof value.startTime === "string" ? value.startTime : null,
    pidNs: typeof value.pidNs === "string" ? value.pidNs : null,
    host: value.host,
    runId: typeof value.runId === "string" ? value.runId : "?",
  };
};

/**
 * `jobs` with every record that says "running" but whose runner isGone
 * marked by killed(record); `killed` names them. Records without a runner
 * (written by an older boxinit) are left as they are.
 */
export const markKilledRuns = <R>(
  jobs: Record<string, unknown>, isGone: (runner: Runner) => boolean, killed: (record: unknown) => R,
): { jobs: Record<string, unknown>; killed: Array<{ name: string; runner: Runner }> } => {
  const found: Array<{ name: string; runner: Runner }> = [];
  for (const name of Object.keys(jobs)) {
    const record = jobs[name];
    if (!isObject(record) || record.running !== true) continue;
    const runner = runnerOf(record.runner);
    if (runner && isGone(runner)) found.push({ name, runner });
  }
  if (found.length === 0) return { jobs, killed: found };
  const names = new Set(found.map((entry) => entry.name));
  return { jobs: Object.fromEntries(Object.entries(jobs).map(([name, record]) => [name, names.has(name) ? killed(record) : record])), killed: found };
};

let ownPidNs: string | null | undefined;

/** This process's PID namespace ("pid:[N]"), null when /proc does not say. */
export const pidNamespace = (): string | null => {
  if (ownPidNs === undefined) {
    try {
      ownPidNs = readlinkSync("/proc/self/ns/pid");
    } catch {
      ownPidNs = null; // no /proc, or not ours to read: no runner can be judged
    }
  }
  return ownPidNs;
};

/** The runner identity of this process for a run. */
export const currentRunner = (runId: string, host: string): Runner => ({
  pid: process.pid, startTime: processStartTime(process.pid), pidNs: pidNamespace(), host, runId,
});

/**
 * Provably gone: the runner was in this PID namespace on this host, and its
 * pid is free or belongs to a process started at another time. Its flock on
 * the job's lock died with it. Anywhere else (another container), nothing is known.
 */
export const isRunnerGone = (runner: Runner, startTimeOf: (pid: number) => string | null = processStartTime): boolean => {
  const ns = pidNamespace();
  if (ns === null || runner.pidNs !== ns || runner.host !== hostname() || runner.startTime === null) return false;
  return startTimeOf(runner.pid) !== runner.startTime;
};

// A job's entry in status.json (`jobs.NAME`), written by whoever runs the job:
// `boxinit job` (maybe in another container sharing the state directory) or
// PID 1's scheduler. Under the status lock (control/status-lock.ts) the writer
// reads the file, replaces its one entry and writes it back; every other key,
// PID 1's `updatedAt` heartbeat included, is left exactly as it was, so a job
// run never makes a dead PID 1 look alive.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { errnoCode, writeFileAtomic } from "../control/atomic-write.ts";
import { withStateDir } from "../control/dir-handle.ts";
import { byHandle, readForUpdate } from "../control/status-document.ts";
import { STATUS_JSON_FILE, STATUS_SCHEMA_VERSION } from "../control/status-file.ts";
import { withStatusLock } from "../control/status-lock.ts";
import { escapeControls } from "../control/backoff.ts";
import { isRunnerGone, markKilledRuns, pruneRecords, type Removed, type Runner } from "./record-upkeep.ts";

/** How the last run ended; `killed`: its harness ended without recording the end (SIGKILL, OOM kill, a lost container). */
export type JobResult = "ok" | "failed" | "signal" | "timeout" | "killed";

export interface JobRecord {
  /** True from the start of a run to its end. */
  running: boolean;
  /** While running: who runs it (pid, its start time, PID namespace, host, run id); null otherwise. */
  runner: Runner | null;
  lastStart: string | null;
  lastEnd: string | null;
  /** Shell-style code: 128+N on signal N, 124 on timeout. */
  lastExit: number | null;
  lastSignal: string | null;
  lastResult: JobResult | null;
  lastDurationMs: number | null;
  /** The failure report of the last run, relative to the state directory (null after a success). */
  logFile: string | null;
  runs: number;
  failures: number;
  /** The last run that did not happen, and why (backoff, already running, box not running). */
  lastSkip: { at: string; reason: string } | null;
  /** Scheduled jobs only: the cron expression and the next time it fires. */
  schedule?: string;
  nextRun?: string | null;
}

export const EMPTY_RECORD: JobRecord = {
  running: false, runner: null, lastStart: null, lastEnd: null, lastExit: null, lastSignal: null, lastResult: null,
  lastDurationMs: null, logFile: null, runs: 0, failures: 0, lastSkip: null,
};

// A job's record waits longer for the lock than PID 1's own writes (100 ms):
// a lost update would be a lost run in the counts. At most twice per run.
const RECORD_LOCK_WAIT_MS = 1000;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A stored entry as a JobRecord: missing fields take their empty values. */
export const recordOf = (value: unknown): JobRecord => (isObject(value) ? { ...EMPTY_RECORD, ...(value as Partial<JobRecord>) } : { ...EMPTY_RECORD });

/**
 * The record of a run whose harness is gone without recording its end: not
 * running, counted as a run and a failure; its end, exit and duration unknown.
 */
export const killedRecord = (previous: unknown): JobRecord => {
  const record = recordOf(previous);
  return {
    ...record, running: false, runner: null, lastEnd: null, lastExit: null, lastSignal: null, lastResult: "killed",
    lastDurationMs: null, logFile: null, runs: record.runs + 1, failures: record.failures + 1,
  };
};

export interface RecordOptions {
  /** Records of other jobs not run for this long are removed (job_logs.max_age); omitted: only the count limit applies. */
  keepRecordsForMs?: number;
  nowMs?: number;
}

const describeRemoved = (removed: readonly Removed[]): string => {
  const shown = removed.slice(0, 5).map((entry) => `${escapeControls(entry.name)} (${entry.lastActivity ?? "no time"})`);
  return `${shown.join(", ")}${removed.length > shown.length ? `, and ${removed.length - shown.length} more` : ""}`;
};

/** The document with jobs[name] replaced and the upkeep done; logs what was removed or found killed. */
const changeDocument = (
  document: Record<string, unknown>, name: string, change: (previous: JobRecord) => JobRecord, options: RecordOptions, log: Logger,
): Record<string, unknown> => {
  const nowMs = options.nowMs ?? Date.now();
  const stored = isObject(document.jobs) ? document.jobs : {};
  const checked = markKilledRuns(stored, (runner) => isRunnerGone(runner), killedRecord);
  for (const { name: killed, runner } of checked.killed) {
    log.warn("job", `job ${escapeControls(killed)}: its run ended without recording its end (the boxinit running it, pid ${runner.pid}, is gone): recorded as killed`, { job: killed, run: runner.runId, pid: runner.pid });
  }
  const pruned = pruneRecords(checked.jobs, { keepForMs: options.keepRecordsForMs ?? Infinity, nowMs, current: name });
  if (pruned.removed.length > 0) {
    log.info("job", `removed the status.json records of ${pruned.removed.length} job${pruned.removed.length === 1 ? "" : "s"} not run for the retention period (job_logs.max_age), oldest first: ${describeRemoved(pruned.removed)}`, { count: pruned.removed.length });
  }
  // Changed in place (the parsed document, or upkeep's copy of it: this
  // writer's own), not copied record by record: 10,000 records cost a copy
  // each time. Deleted and defined again, the record moves to the end, as
  // before; defineProperty: a job called "__proto__" is an ordinary key.
  const jobs = pruned.jobs;
  const record = change(recordOf(Object.hasOwn(jobs, name) ? jobs[name] : undefined));
  delete jobs[name];
  Object.defineProperty(jobs, name, { value: record, enumerable: true, writable: true, configurable: true });
  return { ...document, jobs };
};

/**
 * Replace jobs[name] with change(previous); on the way, records whose run's
 * harness is provably gone become `killed`, and records of jobs not run for
 * keepRecordsForMs are removed. Never throws: a state directory that cannot
 * be written is logged, and the job's own result stands. A status.json that
 * cannot be used is kept aside (status.json.bad-TIME) before a new one is written.
 */
export const updateJobRecord = (
  stateDir: string, name: string, native: Native | undefined, log: Logger, change: (previous: JobRecord) => JobRecord, options: RecordOptions = {},
): boolean => {
  try {
    const locking = withStateDir(stateDir, native, (dir) => withStatusLock(dir, native, () => {
      const read = readForUpdate(byHandle(dir), options.nowMs);
      if (read.keptAside) {
        log.warn("job", `status.json cannot be used: ${read.keptAside.reason}; kept as ${read.keptAside.name}, a new one written`, { dir: stateDir, keptAs: read.keptAside.name });
      }
      const document = changeDocument(read.document ?? { schemaVersion: STATUS_SCHEMA_VERSION }, name, change, options, log);
      writeFileAtomic(dir, STATUS_JSON_FILE, `${JSON.stringify(document, null, 2)}\n`);
    }, RECORD_LOCK_WAIT_MS));
    if (locking === "unlocked" && native) log.debug("job", "status.json written without its lock (another writer held it over 1s, or the file system has none)", { job: name });
    return true;
  } catch (error) {
    log.warn("job", `cannot record the job in status.json: ${errnoCode(error) ?? (error as Error).message}`, { dir: stateDir, job: name });
    return false;
  }
};

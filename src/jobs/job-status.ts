// A job's entry in status.json (`jobs.NAME`), written by whoever runs the job:
// `boxinit job` (maybe in another container sharing the state directory) or
// PID 1's scheduler. Under the status lock (control/status-lock.ts) the writer
// reads the file, replaces its one entry and writes it back; every other key,
// PID 1's `updatedAt` heartbeat included, is left exactly as it was, so a job
// run never makes a dead PID 1 look alive.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { errnoCode, isMissing, readRegularFileAt, writeFileAtomic } from "../control/atomic-write.ts";
import { withStateDir, type DirHandle } from "../control/dir-handle.ts";
import { MAX_STATUS_JSON_BYTES, STATUS_JSON_FILE, STATUS_SCHEMA_VERSION } from "../control/status-file.ts";
import { withStatusLock } from "../control/status-lock.ts";

/** How the last run ended. */
export type JobResult = "ok" | "failed" | "signal" | "timeout";

export interface JobRecord {
  /** True from the start of a run to its end. */
  running: boolean;
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
  running: false, lastStart: null, lastEnd: null, lastExit: null, lastSignal: null, lastResult: null,
  lastDurationMs: null, logFile: null, runs: 0, failures: 0, lastSkip: null,
};

// A job's record waits longer for the lock than PID 1's own writes (100 ms):
// a lost update would be a lost run in the counts. At most twice per run.
const RECORD_LOCK_WAIT_MS = 1000;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The document to change: the file's content, or a fresh one when missing or not a JSON object. */
const readDocument = (stateDir: DirHandle, log: Logger): Record<string, unknown> => {
  let text: string;
  try {
    text = readRegularFileAt(stateDir, STATUS_JSON_FILE, MAX_STATUS_JSON_BYTES).toString("utf8");
  } catch (error) {
    if (!isMissing(error)) log.warn("job", "cannot read status.json: writing a new one", { dir: stateDir.path, error: errnoCode(error) ?? String(error) });
    return { schemaVersion: STATUS_SCHEMA_VERSION };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return parsed;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  log.warn("job", "status.json is not a JSON object: writing a new one", { dir: stateDir.path });
  return { schemaVersion: STATUS_SCHEMA_VERSION };
};

/** A stored entry as a JobRecord: missing fields take their empty values. */
export const recordOf = (value: unknown): JobRecord => (isObject(value) ? { ...EMPTY_RECORD, ...(value as Partial<JobRecord>) } : { ...EMPTY_RECORD });

/**
 * Replace jobs[name] with change(previous). Never throws: a state directory
 * that cannot be written is logged, and the job's own result stands.
 */
export const updateJobRecord = (
  stateDir: string, name: string, native: Native | undefined, log: Logger, change: (previous: JobRecord) => JobRecord,
): boolean => {
  try {
    const locking = withStateDir(stateDir, native, (dir) => withStatusLock(dir, native, () => {
      const document = readDocument(dir, log);
      const jobs = isObject(document.jobs) ? document.jobs : {};
      // defineProperty-safe: a job called "__proto__" is an ordinary key here.
      const updated = Object.fromEntries([...Object.entries(jobs).filter(([key]) => key !== name), [name, change(recordOf(jobs[name]))]]);
      writeFileAtomic(dir, STATUS_JSON_FILE, `${JSON.stringify({ ...document, jobs: updated }, null, 2)}\n`);
    }, RECORD_LOCK_WAIT_MS));
    if (locking === "unlocked" && native) log.debug("job", "status.json written without its lock (another writer held it too long, or the file system has none)");
    return true;
  } catch (error) {
    log.warn("job", `cannot record the job in status.json: ${errnoCode(error) ?? (error as Error).message}`, { dir: stateDir, job: name });
    return false;
  }
};

// Writes boxinit's state for host tools: <state_dir>/status (one word) and
// status.json, each replaced atomically, re-written by a heartbeat. A missing,
// read-only or full state directory is logged once per problem and retried;
// it never throws into, or crashes, PID 1.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { errnoCode, removeStaleTemps, writeFileAtomic } from "./atomic-write.ts";
import { makeDirs, openStateDir, type DirHandle } from "./dir-handle.ts";
import { byHandle, readForUpdate, type DocumentForUpdate } from "./status-document.ts";
import { withStatusLock } from "./status-lock.ts";
import { CarriedJobs, headText, jobsTail } from "./jobs-text.ts";
import { isoTime } from "../time/iso-time.ts";

/** `degraded`: booted, but a critical service is down (waiting for its restart, or starting again). */
export type BoxState = "starting" | "warming" | "running" | "degraded" | "stopping" | "stopped" | "backedoff" | "failed";

/**
 * Service states of a service on its way back (it died and waits for its
 * restart, or is being started or warmed up once more): a critical service in
 * one of them makes a booted box `degraded`.
 */
export const COMING_BACK_STATES: ReadonlySet<string> = new Set(["restarting", "starting", "warming"]);

/**
 * status.json's entry for one service; State is the supervisor's state type
 * (supervisor/service-states.ts), a string to readers of the file.
 */
export interface ServiceStatus<State extends string = string> {
  state: State;
  pid: number | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  readyAt: string | null;
}

export interface StatusSnapshot {
  state: BoxState;
  /** ISO time the current state began. */
  since: string;
  pid: number;
  version: string;
  backoff: boolean;
  exitCode?: number;
  /** How often updatedAt is refreshed: readers judge staleness by it. */
  heartbeatMs: number;
  services: Record<string, ServiceStatus>;
}

export const STATUS_FILE = "status";
export const STATUS_JSON_FILE = "status.json";
export const STATUS_SCHEMA_VERSION = 1;
/** The config's default (config/defaults.ts), for readers of a status.json that does not say. */
export const DEFAULT_HEARTBEAT_MS = GLOBAL_DEFAULTS.heartbeatMs;
const DEFAULT_RETRY_MS = 1000;
export { MAX_STATUS_JSON_BYTES } from "./status-document.ts";
// A writer holds its temp file for microseconds; one this old is from a killed run.
const STALE_TEMP_AGE_MS = 60_000;

// status.json's keys but `jobs`, in their order (`jobs` comes last).
const headOf = (snapshot: StatusSnapshot, updatedAt: string): Record<string, unknown> => ({
  schemaVersion: STATUS_SCHEMA_VERSION,
  state: snapshot.state,
  since: snapshot.since,
  updatedAt,
  pid: snapshot.pid,
  version: snapshot.version,
  backoff: snapshot.backoff,
  ...(snapshot.exitCode === undefined ? {} : { exitCode: snapshot.exitCode }),
  heartbeatMs: snapshot.heartbeatMs,
  services: snapshot.services,
});

/** status.json's text for a snapshot; `jobs` belongs to the job writer and is passed through. */
export const serializeStatus = (snapshot: StatusSnapshot, updatedAt: string, jobs: unknown): string =>
  headText(headOf(snapshot, updatedAt)) + jobsTail(jobs);

const HINTS: Record<string, string> = {
  EROFS: "the file system is read-only: mount a writable volume at the state directory",
  ENOSPC: "the file system is full",
  EDQUOT: "the disk quota is exhausted",
  ENOTDIR: "a component of the path is not a directory",
  EISDIR: "a directory is in the way of the file: remove it",
  ELOOP: "too many symlinks on the path",
};

const hintFor = (code: string): string | undefined => {
  if (code === "EACCES" || code === "EPERM") {
    return `boxinit runs as uid ${process.getuid?.() ?? "?"}: make the directory writable for it`;
  }
  return HINTS[code];
};

/** A failed step: its key makes "one warning per distinct problem" concrete. */
interface Problem {
  key: string;
  step: string;
  code: string;
  detail: string;
}

class StepError extends Error {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.step = step;
  }
}

const problemOf = (error: unknown): Problem => {
  const step = error instanceof StepError ? error.step : "write the status";
  const cause = error instanceof StepError ? error.cause : error;
  const code = errnoCode(cause) ?? "internal";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return { key: `${step}:${code}`, step, code, detail };
};

export interface StatusFileOptions {
  heartbeatMs: number;
  /** How often a failed write is retried (default 1 s). */
  retryMs?: number;
  /** For the lock shared with job runs (control/status-lock.ts); without it writes are unlocked. */
  native?: Native | undefined;
}

/**
 * The state directory's writer. write() keeps the latest snapshot and tries
 * at once; on failure it warns once per distinct problem and retries every
 * retryMs until a write succeeds. A missing directory is created (mkdir -p,
 * 0755) and that is logged. Timers are unref'd: they never keep PID 1 alive.
 */
export class StatusFile {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  readonly #retryMs: number;
  readonly #native: Native | undefined;
  #snapshot: StatusSnapshot | undefined;
  // Problems already warned about since the last successful write.
  readonly #failing = new Set<string>();
  #retryTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #hasSwept = false;
  #unlockedWrites = 0;
  #isClosed = false;
  // The jobs text of the last write, reused while status.json is unchanged.
  readonly #jobs = new CarriedJobs();

  constructor(stateDir: string, log: Logger, options: StatusFileOptions) {
    this.#dir = stateDir;
    this.#log = log;
    this.#heartbeatMs = options.heartbeatMs;
    this.#retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this.#native = options.native;
  }

  /** Record and write a snapshot now; synchronous, never throws. */
  write(snapshot: StatusSnapshot): void {
    this.#snapshot = snapshot;
    this.#attempt();
  }

  /** Re-write the last snapshot every heartbeatMs, so readers can tell a live box from a frozen one. */
  startHeartbeat(): void {
    if (this.#heartbeatTimer !== undefined || this.#isClosed) return;
    this.#heartbeatTimer = setInterval(() => this.#attempt(), this.#heartbeatMs).unref();
  }

  /** Stop the heartbeat and retries; a later write() still tries once. */
  close(): void {
    this.#isClosed = true;
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#retryTimer);
    this.#heartbeatTimer = undefined;
    this.#retryTimer = undefined;
  }

  /** Writes that went ahead without the status lock (another writer held it past 100 ms, or none could be had). */
  get unlockedWrites(): number {
    return this.#unlockedWrites;
  }

  #attempt(): void {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) return;
    let dir: DirHandle | undefined;
    try {
      // One attempt's lock, read, temp files and renames all happen in the
      // directory opened here, whatever is swapped at its path meanwhile.
      const opened = (dir = this.#openDir());
      const locking = withStatusLock(opened, this.#native, () => this.#writeFiles(opened, snapshot));
      // Without the addon every write is unlocked: that is said once, at boot.
      if (locking === "unlocked" && this.#native) {
        this.#unlockedWrites++;
        this.#log.debug("state-dir", "status.json written without its lock (another writer held it over 100ms, or the file system has none): a job's record written meanwhile may be lost", { dir: this.#dir, count: this.#unlockedWrites });
      }
    } catch (error) {
      dir?.close();
      this.#onFailure(problemOf(error));
      return;
    }
    try {
      this.#onSuccess(dir);
    } finally {
      dir.close();
    }
  }

  // The state directory, open; a missing one is created first.
  #openDir(): DirHandle {
    try {
      return openStateDir(this.#dir, this.#native);
    } catch (error) {
      if (errnoCode(error) !== "ENOENT") throw new StepError(`write ${STATUS_JSON_FILE}`, error);
    }
    this.#createDir();
    try {
      return openStateDir(this.#dir, this.#native);
    } catch (error) {
      throw new StepError(`write ${STATUS_JSON_FILE}`, error);
    }
  }

  #writeFiles(dir: DirHandle, snapshot: StatusSnapshot): void {
    const json = this.#jobs.compose(byHandle(dir), headOf(snapshot, isoTime()), () => this.#existingJobs(dir));
    // status.json first: a reader that sees the new word finds the details to match.
    this.#replace(dir, STATUS_JSON_FILE, json);
    this.#replace(dir, STATUS_FILE, `${snapshot.state}\n`);
  }

  #replace(dir: DirHandle, name: string, content: string): void {
    try {
      writeFileAtomic(dir, name, content);
    } catch (error) {
      throw new StepError(`write ${name}`, error);
    }
  }

  #createDir(): void {
    try {
      // 0755 on every level made, whatever the umask (077 would hide the status
      // from host tools running as another user); the files inside are 0644 for the same reason.
      makeDirs(this.#dir, 0o755);
    } catch (error) {
      throw new StepError("create the state directory", error);
    }
    this.#log.info("state-dir", "created the missing state directory (mount a volume there to keep its files)", { dir: this.#dir });
  }

  // Carried over unchanged: job runs (maybe in another container sharing the
  // directory) own this key, and write it under the same lock. A symlink
  // planted at status.json is not read. A document that cannot be used is
  // kept aside (status-document.ts), never replaced with its jobs lost.
  #existingJobs(dir: DirHandle): unknown {
    let read: DocumentForUpdate;
    try {
      read = readForUpdate(byHandle(dir));
    } catch (error) {
      throw new StepError(`read ${STATUS_JSON_FILE}`, error);
    }
    if (read.keptAside) {
      this.#log.warn("state-dir", `existing status.json cannot be used: ${read.keptAside.reason}; kept as ${read.keptAside.name}, a new one written`, {
        dir: this.#dir, keptAs: read.keptAside.name,
      });
    }
    return read.document?.jobs;
  }

  #onFailure(problem: Problem): void {
    if (!this.#failing.has(problem.key)) {
      this.#failing.add(problem.key);
      const level = problem.code === "internal" ? "error" : "warn";
      this.#log.log(level, "state-dir", `cannot ${problem.step}: ${problem.code}: retrying every ${this.#retryMs}ms`, {
        dir: this.#dir,
        error: problem.detail,
        hint: hintFor(problem.code),
      });
    }
    if (this.#retryTimer === undefined && !this.#isClosed) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#attempt();
      }, this.#retryMs).unref();
    }
  }

  #onSuccess(dir: DirHandle): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#failing.size > 0) {
      this.#failing.clear();
      this.#log.info("state-dir", "state directory writable again", { dir: this.#dir });
    }
    if (!this.#hasSwept) {
      this.#hasSwept = true;
      const removed = removeStaleTemps(dir, STATUS_JSON_FILE, STALE_TEMP_AGE_MS) + removeStaleTemps(dir, STATUS_FILE, STALE_TEMP_AGE_MS);
      if (removed > 0) this.#log.debug("state-dir", "removed temp files of a killed run", { dir: this.#dir, count: removed });
    }
  }
}

// One run of a job at a time: <state_dir>/jobs/<NAME>.lock. The kernel's flock
// on that file says whether a run is alive (it is released when the holder's
// last descriptor closes, whatever killed it, and works across containers that
// share the directory, where every holder may be "pid 1"). The file's content
// (pid, its start time, host, run id) tells the log who holds it, and a
// non-empty file whose lock is free is a run that died without cleaning up.
// Without the addon there is no flock: the pid and its start time decide,
// which is exact only inside one PID namespace. The file is opened in jobs/ as
// opened once by descriptor (control/dir-handle.ts), never through a symlink.
import { closeSync, constants, fstatSync, ftruncateSync, readSync, writeSync } from "node:fs";
import type { Native } from "../native/addon.ts";
import { processStartTime } from "../pid1/proc-table.ts";
import { errnoCode } from "../control/atomic-write.ts";
import { openOrCreate, withStateDir } from "../control/dir-handle.ts";
import { LOCK_DIR, ownDir } from "./own-dir.ts";

const { O_RDONLY, O_RDWR, O_NOFOLLOW, O_NONBLOCK } = constants;

export { LOCK_DIR };
// Its tests and older importers know it from here; /proc is read in pid1/proc-table.ts only.

/** A lock file is created with this mode whatever the umask: a run under another uid must be able to open it to flock. */
export const LOCK_FILE_MODE = 0o644;
const MAX_LOCK_BYTES = 4096;

/** Who holds (or held) a lock. */
export interface LockOwner {
  pid: number;
  /** /proc/PID/stat start time in clock ticks: a reused pid has another. */
  startTime: string | null;
  host: string;
  runId: string;
  startedAt: string;
}

export interface JobLock {
  /** Empty the file (a clean end leaves no stale owner) and drop the lock. */
  release(): void;
}

export type LockAttempt =
  | { kind: "taken"; lock: JobLock; stale?: LockOwner | "unreadable" }
  | { kind: "held"; owner?: LockOwner }
  | { kind: "unavailable"; reason: string };

/** Parse a lock file's content; undefined when empty or not ours. */
export const parseOwner = (text: string): LockOwner | undefined => {
  if (text.trim() === "") return undefined;
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value !== "object" || value === null || !Number.isInteger(value.pid)) return undefined;
    return {
      pid: value.pid!, startTime: typeof value.startTime === "string" ? value.startTime : null,
      host: String(value.host ?? "?"), runId: String(value.runId ?? "?"), startedAt: String(value.startedAt ?? "?"),
    };
  } catch {
    return undefined;
  }
};

/** Without flock: alive when the pid exists and started when the owner said it did. */
export const isOwnerAlive = (owner: LockOwner, startTimeOf: (pid: number) => string | null = processStartTime): boolean => {
  const now = startTimeOf(owner.pid);
  return now !== null && now === owner.startTime;
};

const readAll = (fd: number): string => {
  const buffer = Buffer.alloc(MAX_LOCK_BYTES);
  const count = readSync(fd, buffer, 0, buffer.length, 0);
  return buffer.subarray(0, count).toString("utf8");
};

const rewrite = (fd: number, text: string): void => {
  ftruncateSync(fd, 0);
  if (text !== "") writeSync(fd, text, 0);
};

/**
 * The lock file, open; isWritable is false when its content must not be
 * rewritten: another uid's run created it (docker run --user), the file
 * system is read-only (flock works all the same), or it has other names (a
 * hard link planted at the lock's name: truncating it would truncate a file
 * elsewhere).
 */
const openLockFile = (stateDir: string, fileName: string, native: Native | undefined): { fd: number; isWritable: boolean } =>
  withStateDir(stateDir, native, (root) => {
    const jobs = ownDir(root, LOCK_DIR);
    try {
      const name = `${fileName}.lock`;
      // O_NOFOLLOW: a symlink planted at the name is not followed; O_NONBLOCK: nor can a FIFO block us.
      let fd: number;
      let isWritable = true;
      try {
        ({ fd } = openOrCreate(jobs, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK, LOCK_FILE_MODE));
      } catch (error) {
        const code = errnoCode(error);
        if (code !== "EACCES" && code !== "EROFS") throw error;
        // flock needs only read access. A missing file stays the first error (EROFS, not ENOENT).
        try {
          fd = jobs.open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
        } catch {
          throw error;
        }
        isWritable = false;
      }
      const stats = fstatSync(fd);
      if (!stats.isFile()) {
        closeSync(fd);
        throw Object.assign(new Error("not a regular file"), { code: "EINVAL" });
      }
      return { fd, isWritable: isWritable && stats.nlink === 1 };
    } finally {
      jobs.close();
    }
  });

/** Try to take the job's lock at once; never throws. */
export const tryJobLock = (stateDir: string, fileName: string, me: LockOwner, native: Native | undefined): LockAttempt => {
  let fd: number;
  let isWritable: boolean;
  try {
    ({ fd, isWritable } = openLockFile(stateDir, fileName, native));
  } catch (error) {
    return { kind: "unavailable", reason: errnoCode(error) ?? (error as Error).message };
  }
  try {
    const previousText = readAll(fd);
    const previous = parseOwner(previousText);
    if (native) {
      if (!native.tryLock(fd)) {
        closeSync(fd);
        return previous ? { kind: "held", owner: previous } : { kind: "held" };
      }
    } else if (previous && isOwnerAlive(previous)) {
      closeSync(fd);
      return { kind: "held", owner: previous };
    }
    // Read-only (another user's file): the flock alone protects, the owner line stays as it was.
    if (isWritable) rewrite(fd, `${JSON.stringify(me)}\n`);
    const lock: JobLock = {
      release: () => {
        try {
          if (isWritable) rewrite(fd, "");
        } finally {
          closeSync(fd);
        }
      },
    };
    if (!isWritable) return { kind: "taken", lock };
    if (previous) return { kind: "taken", lock, stale: previous };
    return previousText.trim() === "" ? { kind: "taken", lock } : { kind: "taken", lock, stale: "unreadable" };
  } catch (error) {
    closeSync(fd);
    return { kind: "unavailable", reason: errnoCode(error) ?? (error as Error).message };
  }
};

// status.json has two kinds of writers: PID 1 (the whole document except
// `jobs`) and job runs (one entry of `jobs`), maybe in another container that
// shares the bind-mounted state directory. Each writer reads, changes its own
// part and replaces the file; holding flock on <state_dir>/.status.lock across
// that read-modify-write means neither loses the other's update. The lock is
// only ever tried, never waited on in the kernel: a writer frozen while holding
// it (docker pause) must not freeze PID 1's event loop. The lock file is
// opened in the state directory's handle (dir-handle.ts) and created 0644
// whatever the umask, so job runs under another uid can lock it too.
import { closeSync, constants } from "node:fs";
import type { Native } from "../native/addon.ts";
import { openOrCreate, type DirHandle } from "./dir-handle.ts";

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

export const STATUS_LOCK_FILE = ".status.lock";

/** done: ran under the lock; busy: another writer holds it, fn did not run; unlocked: no lock could be had, fn ran without. */
export type LockedRun = "done" | "busy" | "unlocked";

/**
 * Run fn while holding the status lock. Without the addon, or when the lock
 * file cannot be opened (a missing or read-only directory: fn will meet the
 * same problem and report it), fn runs unlocked.
 */
export const tryWithStatusLock = (stateDir: DirHandle, native: Native | undefined, fn: () => void): LockedRun => {
  if (!native) {
    fn();
    return "unlocked";
  }
  let fd: number;
  try {
    // Read-only is enough for flock, so a job run under another uid can lock
    // the file PID 1 created; O_NONBLOCK: a FIFO planted there cannot block us.
    ({ fd } = openOrCreate(stateDir, STATUS_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0o644));
  } catch {
    fn();
    return "unlocked";
  }
  try {
    let isLocked: boolean;
    try {
      isLocked = native.tryLock(fd);
    } catch {
      // ENOLCK and the like (some network file systems): no lock to be had there.
      fn();
      return "unlocked";
    }
    if (!isLocked) return "busy";
    fn();
    return "done";
  } finally {
    // Closing the last descriptor releases the flock.
    closeSync(fd);
  }
};

// A holder keeps the lock for one small read and write: about a millisecond.
const RETRY_MS = 1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * tryWithStatusLock, retried for up to maxWaitMs; then fn runs unlocked, so a
 * holder that is stuck (a paused container) delays an update by at most that
 * and never stops it. Synchronous on purpose: PID 1's last write ("stopped")
 * happens just before it exits, when no timer would fire any more.
 */
export const withStatusLock = (stateDir: DirHandle, native: Native | undefined, fn: () => void, maxWaitMs = 100): LockedRun => {
  for (let waited = 0; waited < maxWaitMs;) {
    const outcome = tryWithStatusLock(stateDir, native, fn);
    if (outcome !== "busy") return outcome;
    // A random 1-3 ms: writers retrying in step would keep meeting the lock held.
    const pauseMs = RETRY_MS + Math.floor(Math.random() * 3);
    Atomics.wait(sleeper, 0, 0, pauseMs);
    waited += pauseMs;
  }
  fn();
  return "unlocked";
};

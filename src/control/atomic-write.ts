// Safe file I/O for the state directory, which people and host tools share
// with boxinit: whole-file replacement by rename (readers never see a torn
// file, a symlink planted at the name is replaced, not followed) and bounded
// reads that cannot hang on a FIFO or leak a file through a planted symlink.
import { closeSync, constants, fchmodSync, fstatSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW, O_RDONLY, O_NONBLOCK } = constants;

/** errno code of a Node system error, or undefined for anything else. */
export const errnoCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && typeof (error as NodeJS.ErrnoException).code === "string"
    ? (error as NodeJS.ErrnoException).code
    : undefined;

// Random, not only the pid: two containers that share a bind-mounted state
// directory are both pid 1 (the app and a `boxinit job` container), and a
// fixed name would let one unlink or rename the other's half-written file.
const tempName = (name: string): string =>
  `.${name}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;

const TEMP_NAME_ATTEMPTS = 4;
const MODE_UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP"]);

const openTemp = (dir: string, name: string, mode: number): { fd: number; path: string } => {
  for (let attempt = 1; ; attempt++) {
    const path = join(dir, tempName(name));
    try {
      // O_EXCL|O_NOFOLLOW: never write through a symlink or into a file someone
      // else (a planted link, another writer) already holds at this name.
      return { fd: openSync(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode), path };
    } catch (error) {
      if (errnoCode(error) !== "EEXIST" || attempt >= TEMP_NAME_ATTEMPTS) throw error;
    }
  }
};

const writeAll = (fd: number, bytes: Buffer): void => {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written);
};

const unlinkQuietly = (path: string): void => {
  try {
    unlinkSync(path);
  } catch (error) {
    // ENOENT: already gone. Other errnos leave a dot-file that removeStaleTemps sweeps later.
    if (errnoCode(error) === undefined) throw error;
  }
};

/**
 * Replaces dir/name with content atomically: temp file in the same directory,
 * write, close, rename. Throws the system error (ENOENT, EROFS, ENOSPC, ...);
 * the temp file never outlives a failure. No fsync: the case that matters is
 * the process being killed, which rename covers, and a synchronous fsync on a
 * slow or network disk would stall PID 1's event loop.
 */
export const writeFileAtomic = (dir: string, name: string, content: string, mode = 0o644): void => {
  const temp = openTemp(dir, name, mode);
  try {
    try {
      // The umask may have narrowed the mode; host tools of other users must read it.
      fchmodSync(temp.fd, mode);
    } catch (error) {
      if (!MODE_UNSUPPORTED.has(errnoCode(error) ?? "")) throw error;
    }
    writeAll(temp.fd, Buffer.from(content));
  } catch (error) {
    closeSync(temp.fd);
    unlinkQuietly(temp.path);
    throw error;
  }
  try {
    closeSync(temp.fd);
    // rename(2) replaces the directory entry itself: a symlink there is replaced, not followed.
    renameSync(temp.path, join(dir, name));
  } catch (error) {
    unlinkQuietly(temp.path);
    throw error;
  }
};

/**
 * Removes temp files of `name` older than maxAgeMs, left by a writer killed
 * between open and rename. Young ones may belong to a live writer in another
 * container, which holds one for microseconds. Best effort; returns the count.
 */
export const removeStaleTemps = (dir: string, name: string, maxAgeMs: number, nowMs = Date.now()): number => {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) !== undefined) return 0;
    throw error;
  }
  const prefix = `.${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(".tmp")) continue;
    const path = join(dir, entry);
    try {
      const stats = statSync(path, { throwIfNoEntry: false });
      if (stats === undefined || nowMs - stats.mtimeMs < maxAgeMs) continue;
      unlinkSync(path);
      removed++;
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
    }
  }
  return removed;
};

export interface ReadOptions {
  /** Refuse a symlink at the final component (ELOOP) instead of following it. */
  noFollow?: boolean;
}

/** A read that found nothing to read: the file or a directory on its path is missing. */
export const isMissing = (error: unknown): boolean => {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
};

/**
 * Reads at most maxBytes of a regular file. O_NONBLOCK so that a FIFO planted
 * at the name cannot block the caller (PID 1) in open(2); anything but a
 * regular file is refused with an EINVAL-coded error. Throws system errors.
 */
export const readRegularFile = (path: string, maxBytes: number, options: ReadOptions = {}): Buffer => {
  const flags = O_RDONLY | O_NONBLOCK | (options.noFollow ? O_NOFOLLOW : 0);
  const fd = openSync(path, flags);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      throw Object.assign(new Error(`${path}: not a regular file`), { code: "EINVAL" });
    }
    // Sized by the file, not the limit: status.json is read on every status
    // write, and zero-filling the whole limit each time is wasted work. A file
    // that grows meanwhile is read on in further chunks, up to the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < maxBytes) {
      const buffer = Buffer.allocUnsafe(Math.min(maxBytes - total, Math.max(stats.size - total, 0) + 4096));
      const count = readSync(fd, buffer, 0, buffer.length, null);
      if (count === 0) break;
      chunks.push(buffer.subarray(0, count));
      total += count;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
};

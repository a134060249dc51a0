// Safe file I/O for the state directory, which people and host tools share
// with boxinit: whole-file replacement by rename (readers never see a torn
// file, a symlink planted at the name is replaced, not followed) and bounded
// reads that cannot hang on a FIFO or leak a file through a planted symlink.
// Writes go through a directory handle (dir-handle.ts): the temp file and the
// rename happen in the directory that was opened, whatever is swapped meanwhile.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { kindOf, setModeOf } from "./dir-checks.ts";
import type { DirHandle } from "./dir-handle.ts";

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

const openTemp = (dir: DirHandle, name: string, mode: number): { fd: number; temp: string } => {
  for (let attempt = 1; ; attempt++) {
    const temp = tempName(name);
    try {
      // O_EXCL|O_NOFOLLOW: never write through a symlink or into a file someone
      // else (a planted link, another writer) already holds at this name.
      return { fd: dir.open(temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode), temp };
    } catch (error) {
      if (errnoCode(error) !== "EEXIST" || attempt >= TEMP_NAME_ATTEMPTS) throw error;
    }
  }
};

const writeAll = (fd: number, bytes: Buffer): void => {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written);
};

const unlinkQuietly = (dir: DirHandle, name: string): void => {
  try {
    dir.unlink(name);
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
export const writeFileAtomic = (dir: DirHandle, name: string, content: string, mode = 0o644): void => {
  const { fd, temp } = openTemp(dir, name, mode);
  try {
    // The umask may have narrowed the mode; host tools of other users must read it.
    setModeOf(fd, mode);
    writeAll(fd, Buffer.from(content));
  } catch (error) {
    closeSync(fd);
    unlinkQuietly(dir, temp);
    throw error;
  }
  try {
    closeSync(fd);
    // rename(2) replaces the directory entry itself: a symlink there is replaced, not followed.
    dir.rename(temp, name);
  } catch (error) {
    unlinkQuietly(dir, temp);
    throw error;
  }
};

/**
 * Removes temp files of `name` (".NAME.*.tmp", regular files only) older than
 * maxAgeMs, left by a writer killed between open and rename. Young ones may
 * belong to a live writer in another container. `isInUse` (the report
 * writer's flock) keeps a file whose writer is, or may be, alive, whatever
 * its age. Best effort; returns the count.
 */
export const removeStaleTemps = (dir: DirHandle, name: string, maxAgeMs: number, nowMs = Date.now(), isInUse?: (entry: string, ageMs: number) => boolean): number => {
  let removed = 0;
  let entries: string[];
  try {
    entries = dir.list();
  } catch (error) {
    if (errnoCode(error) !== undefined) return 0;
    throw error;
  }
  const prefix = `.${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(".tmp")) continue;
    try {
      const stats = dir.stat(entry);
      if (stats === undefined || kindOf(stats) !== "file" || nowMs - stats.mtimeMs < maxAgeMs) continue;
      if (isInUse?.(entry, nowMs - stats.mtimeMs)) continue;
      dir.unlink(entry);
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
export const readRegularFile = (path: string, maxBytes: number, options: ReadOptions = {}): Buffer =>
  readAndClose(openSync(path, O_RDONLY | O_NONBLOCK | (options.noFollow ? O_NOFOLLOW : 0)), maxBytes, path);

/** readRegularFile of a name in an open directory; a symlink at the name is refused (ELOOP). */
export const readRegularFileAt = (dir: DirHandle, name: string, maxBytes: number): Buffer =>
  readAndClose(dir.open(name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW), maxBytes, `${dir.path}/${name}`);

const readAndClose = (fd: number, maxBytes: number, label: string): Buffer => {
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      throw Object.assign(new Error(`${label}: not a regular file`), { code: "EINVAL" });
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

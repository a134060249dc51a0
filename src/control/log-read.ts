// Reading a service's log files (written by log/log-file.ts): NAME.log and
// its rotated NAME.log.1 ... (1 the newest), as one stream oldest first. The
// last N lines are found by reading backwards in blocks, counting newlines,
// then copied forwards in blocks: memory stays one block whatever the sizes.
// Files are opened inside DIR without following a symlink and must be plain
// files, so a planted link cannot make a root reader print another file.
import { closeSync, constants, fstatSync, readSync } from "node:fs";
import type { DirHandle } from "./dir-handle.ts";

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Reads go in blocks of this size (one buffer per reader). */
export const READ_BLOCK_BYTES = 64 * 1024;

/** One file of a service's log, open. */
export interface OpenLog {
  name: string;
  fd: number;
  size: number;
  ino: number;
}

/** Where the tail starts, and where the newest file's last whole line ends. */
export interface TailRange {
  /** Index into the files (oldest first) and byte offset in it. */
  file: number;
  offset: number;
  /** End of the newest file's last whole line (what follows is a line being written). */
  end: number;
}

const ROTATED = /^(.+)\.log\.(\d{1,4})$/;

/** The services that have a log in DIR: every NAME of a NAME.log, sorted. */
export const servicesWithLogs = (dir: DirHandle): string[] =>
  dir.list().filter((name) => name.endsWith(".log") && name.length > 4 && !name.startsWith(".")).map((name) => name.slice(0, -4)).sort();

/** The rotated files' numbers of NAME in DIR, newest (1) first. */
export const rotatedNumbers = (dir: DirHandle, service: string): number[] =>
  dir.list().flatMap((name) => {
    const match = ROTATED.exec(name);
    return match && match[1] === service ? [Number(match[2])] : [];
  }).sort((a, b) => a - b);

/**
 * Open `name` in DIR for reading: O_NOFOLLOW (a symlink is ELOOP), O_NONBLOCK
 * (a FIFO cannot hang the reader), and a plain file or EINVAL. undefined when
 * it does not exist.
 */
export const openLogFile = (dir: DirHandle, name: string): OpenLog | undefined => {
  let fd: number;
  try {
    fd = dir.open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw Object.assign(new Error(`${dir.path}/${name} is not a plain file: refusing to read it`), { code: "EINVAL" });
  }
  return { name, fd, size: stats.size, ino: stats.ino };
};

/**
 * The service's files, oldest first (NAME.log.K ... NAME.log.1, NAME.log). A
 * rotation while they are opened may show one file under two names: opened
 * newest first, an inode already seen is left out.
 */
export const openServiceLogs = (dir: DirHandle, service: string): OpenLog[] => {
  const names = [`${service}.log`, ...rotatedNumbers(dir, service).map((number) => `${service}.log.${number}`)];
  const opened: OpenLog[] = [];
  const seen = new Set<number>();
  try {
    for (const name of names) {
      const file = openLogFile(dir, name);
      if (!file) continue;
      if (seen.has(file.ino)) closeSync(file.fd);
      else opened.push(file);
      seen.add(file.ino);
    }
  } catch (error) {
    closeLogs(opened);
    throw error;
  }
  return opened.reverse();
};

/** Close every file. */
export const closeLogs = (files: readonly OpenLog[]): void => {
  for (const file of files) closeSync(file.fd);
};

/**
 * Where the last `lines` whole lines start, reading backwards in blocks.
 * `files` oldest first; a line the newest file is still being written (no
 * newline yet) is not counted and ends the range.
 */
export const findTail = (files: readonly OpenLog[], lines: number, block = Buffer.allocUnsafe(READ_BLOCK_BYTES)): TailRange => {
  const newest = files.length - 1;
  let end: number | undefined;
  let found = 0;
  for (let index = newest; index >= 0; index--) {
    const file = files[index]!;
    for (let pos = file.size; pos > 0;) {
      const length = Math.min(block.length, pos);
      const count = readSync(file.fd, block, 0, length, pos - length);
      // The file shrank since its size was taken (the writer cut back after ENOSPC):
      // lastIndexOf(-1) would search the stale rest of the block.
      if (count === 0) break;
      for (let at = block.lastIndexOf(0x0a, count - 1); at !== -1; at = at === 0 ? -1 : block.lastIndexOf(0x0a, at - 1)) {
        const offset = pos - length + at + 1;
        if (index === newest) end ??= offset;
        if (++found > lines) return { file: index, offset, end: end ?? 0 };
      }
      pos -= length;
    }
    if (index === newest) end ??= 0;
  }
  return { file: 0, offset: 0, end: end ?? 0 };
};

/**
 * Copy the range to `out` in blocks; false when `out` stopped taking (a
 * closed pipe). The newest file is copied up to range.end.
 */
export const copyRange = (files: readonly OpenLog[], range: TailRange, out: (bytes: Buffer) => boolean, block = Buffer.allocUnsafe(READ_BLOCK_BYTES)): boolean => {
  for (let index = range.file; index < files.length; index++) {
    const file = files[index]!;
    const stop = index === files.length - 1 ? range.end : file.size;
    if (!copyBytes(file.fd, index === range.file ? range.offset : 0, stop, out, block)) return false;
  }
  return true;
};

/** Copy bytes [from, to) of fd to `out` in blocks; false when `out` stopped taking. */
export const copyBytes = (fd: number, from: number, to: number, out: (bytes: Buffer) => boolean, block: Buffer): boolean => {
  for (let pos = from; pos < to;) {
    const count = readSync(fd, block, 0, Math.min(block.length, to - pos), pos);
    if (count === 0) return true; // cut short meanwhile (truncated)
    if (!out(block.subarray(0, count))) return false;
    pos += count;
  }
  return true;
};

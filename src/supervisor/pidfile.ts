// Following a daemonizing service: read the pid its start script left in a
// pidfile, wait for that file to be written by this start, and tell whether
// the pid still lives. The file is the application's (PostgreSQL's
// postmaster.pid is its data-directory lock): it is only ever read here,
// never removed or rewritten, so a stale one is told apart by its identity.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { formatDurationMs } from "../config/duration.ts";
import { monotonicMs, pause } from "../time/clock.ts";
import { readProcEntry } from "../pid1/proc-table.ts";
import { signalProcess } from "../pid1/send-signal.ts";

/** The highest pid Linux can hand out (PID_MAX_LIMIT on 64-bit: 4 Mi). */
export const PID_MAX_LIMIT = 4_194_304;

// Pidfiles are one line (catalina.pid) or a few (postmaster.pid: pid, data
// directory, start time, port, socket directory, ...). The first line must be
// within this; anything longer is not a pidfile and is not read whole.
const READ_LIMIT_BYTES = 4096;
const SHOWN_CONTENT_CHARS = 40;
const POLL_INTERVAL_MS = 15;

export type PidfileResult = { pid: number } | { problem: string };

/**
 * Who a pidfile is, as stat(2) tells: a rewrite changes mtime/ctime, a
 * replacement (rename) the inode. Taken before a start, it tells the file
 * that start wrote from one left by an earlier run.
 */
export interface PidfileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const identityOf = (stats: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): PidfileIdentity =>
  ({ dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs });

const isSameIdentity = (a: PidfileIdentity, b: PidfileIdentity): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** The identity of the file at path now, or undefined when there is none (or it cannot be looked at). */
export const pidfileIdentity = (path: string): PidfileIdentity | undefined => {
  try {
    return identityOf(statSync(path, { bigint: true }));
  } catch {
    return undefined;
  }
};

/** What one read of a pidfile found. */
export type PidfileState =
  /** isLineEnded: the first line ended with a newline (a bare number without one may still be being written) */
  | { kind: "pid"; pid: number; isLineEnded: boolean }
  /** "missing" and "empty" mean "not written yet" to the wait */
  | { kind: "missing" | "empty" | "invalid"; problem: string };

const showContent = (text: string, isCut: boolean): string =>
  JSON.stringify(text.length > SHOWN_CONTENT_CHARS || isCut ? `${text.slice(0, SHOWN_CONTENT_CHARS)}...` : text);

/**
 * Parse pidfile content the way these files are written: the pid is the first
 * line, surrounding whitespace allowed, more lines may follow (postmaster.pid).
 * isCut: the read stopped at the size limit.
 */
export const parsePidfileContent = (path: string, content: string, isCut = false): PidfileState => {
  const newline = content.indexOf("\n");
  const isLineEnded = newline >= 0;
  const firstLine = isLineEnded ? content.slice(0, newline) : content;
  const text = firstLine.trim();
  if (!isLineEnded && isCut) {
    return { kind: "invalid", problem: `pidfile ${path}: expected a process id on its first line, got ${showContent(text, true)}` };
  }
  if (text === "") {
    // A file of only blank space is "not written yet"; a blank first line before other lines is not a pidfile.
    if (content.trim() === "") return { kind: "empty", problem: `pidfile ${path}: is empty` };
    return { kind: "invalid", problem: `pidfile ${path}: expected a process id on its first line, got an empty line` };
  }
  if (!/^\d+$/.test(text)) return { kind: "invalid", problem: `pidfile ${path}: expected a process id, got ${showContent(text, false)}` };
  const pid = Number(text);
  if (pid < 1 || pid > PID_MAX_LIMIT) {
    return { kind: "invalid", problem: `pidfile ${path}: expected a process id from 1 to ${PID_MAX_LIMIT}, got ${showContent(text, false)}` };
  }
  return { kind: "pid", pid, isLineEnded };
};

type ReadOutcome =
  | { kind: "read"; state: PidfileState; identity: PidfileIdentity }
  | { kind: "missing" | "invalid"; problem: string };

// O_NONBLOCK: a FIFO at the path would otherwise block open(2) until a writer
// comes, freezing PID 1's event loop; on regular files the flag does nothing.
// O_RDONLY only: reading never changes the file (not even its mtime).
const readOnce = (path: string): ReadOutcome => {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is still a file, as good as missing for a file being created.
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing", problem: `pidfile ${path}: does not exist` };
    return { kind: "invalid", problem: `pidfile ${path}: cannot open: ${code ?? String(error)}` };
  }
  try {
    // The identity of the very file read (fstat on the same fd): a rename in between cannot mix two files.
    const stats = fstatSync(fd, { bigint: true });
    if (!stats.isFile()) return { kind: "invalid", problem: `pidfile ${path}: is not a regular file` };
    const buffer = Buffer.alloc(READ_LIMIT_BYTES + 1);
    let length = 0;
    // A short read is allowed by read(2) even on regular files: read until EOF or the limit.
    for (let got = -1; got !== 0 && length < buffer.length; length += got) {
      got = readSync(fd, buffer, length, buffer.length - length, null);
    }
    const isCut = length > READ_LIMIT_BYTES;
    const content = buffer.toString("latin1", 0, Math.min(length, READ_LIMIT_BYTES));
    return { kind: "read", state: parsePidfileContent(path, content, isCut), identity: identityOf(stats) };
  } catch (error) {
    return { kind: "invalid", problem: `pidfile ${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  } finally {
    closeSync(fd);
  }
};

/** The pid in a pidfile, or what is wrong with the file. */
export const readPidfile = (path: string): PidfileResult => {
  const read = readOnce(path);
  if (read.kind !== "read") return { problem: read.problem };
  return read.state.kind === "pid" ? { pid: read.state.pid } : { problem: read.state.problem };
};

/** Whether a pid is a live process: kill(pid, 0) succeeds (or EPERM) and it is not a zombie. */
export const isProcessAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid < 1) return false; // 0 and negatives address groups, not a process
  // "denied" (EPERM): it exists but belongs to another user (a service run as its own user).
  if (signalProcess(pid, 0) === "gone") return false;
  // kill(2) succeeds on a zombie: it has exited but nobody reaped it yet.
  // Daemons re-parented to PID 1 stay zombies until the reaper's next pass.
  // No entry: reaped between kill and read, unless there is no /proc at all
  // (then kill(2) is all we can go on).
  const entry = readProcEntry(pid);
  if (entry) return entry.state !== "Z" && entry.state !== "X";
  return readProcEntry("self") === undefined;
};

/** How a wait for a pidfile is bounded and what it compares against. */
export interface PidfileWait {
  /** The file as it was before the start (undefined: there was none): unchanged, it is not this start's. */
  before?: PidfileIdentity;
  /** Ends the wait early. */
  signal?: AbortSignal;
  /** How to name the bound in messages; default the duration itself ("10s"). */
  timeoutLabel?: string;
}

/**
 * Wait until the pidfile, written by this start, names a live process. A
 * missing, empty or not yet valid file, or one unchanged since `before`, is
 * polled again until timeoutMs; a first line without its newline must read
 * the same twice (a writer may be half-way). A pid from this start's file
 * that is not running ends the wait: the daemon died.
 */
export const waitForPidfile = async (path: string, timeoutMs: number, wait: PidfileWait = {}): Promise<PidfileResult> => {
  const deadline = monotonicMs() + timeoutMs;
  const within = wait.timeoutLabel ?? formatDurationMs(timeoutMs);
  let unconfirmed: number | undefined;
  // Polling, not inotify: the directory may not exist yet either, and the wait is short.
  for (;;) {
    if (wait.signal?.aborted) return { problem: `pidfile ${path}: stopped waiting: cancelled` };
    const read = readOnce(path);
    const state: PidfileState = read.kind === "read" ? read.state : read;
    const isOld = read.kind === "read" && wait.before !== undefined && isSameIdentity(read.identity, wait.before);
    if (state.kind === "pid" && !isOld) {
      if (state.isLineEnded || unconfirmed === state.pid) {
        if (isProcessAlive(state.pid)) return { pid: state.pid };
        return { problem: `pidfile ${path} names pid ${state.pid}, which is not running` };
      }
      unconfirmed = state.pid;
    } else {
      unconfirmed = undefined;
    }
    const remainingMs = deadline - monotonicMs();
    if (remainingMs <= 0) {
      if (isOld) {
        const shown = state.kind === "pid" ? `pid ${state.pid}` : "content";
        return { problem: `pidfile ${path} still holds what it held before this start (${shown}, from an earlier run): the start did not write it within ${within}` };
      }
      // Content that never became a pid is worth showing; a file never written is not.
      if (state.kind === "invalid") return { problem: `${state.problem} (still, after ${within})` };
      if (state.kind === "empty") return { problem: `pidfile ${path} was still empty after ${within}` };
      if (state.kind === "missing") return { problem: `pidfile ${path} did not appear within ${within}` };
      // An unended first line that kept changing until the end.
      return { problem: `pidfile ${path} was still being written after ${within}` };
    }
    await pause(Math.min(POLL_INTERVAL_MS, remainingMs), wait.signal);
  }
};

// Following a daemonizing service: read the pid its start script left in a
// pidfile, wait for that file to appear, and tell whether the pid still lives.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { formatDurationMs } from "../config/duration.ts";
import { monotonicMs, pause } from "../shutdown/clock.ts";
import { parseStat } from "../pid1/proc-table.ts";

/** The highest pid Linux can hand out (PID_MAX_LIMIT on 64-bit: 4 Mi). */
export const PID_MAX_LIMIT = 4_194_304;

// A pid is at most 7 digits; a little room for whitespace, and anything longer
// is not a pidfile (a log written to the wrong path must not be read whole).
const READ_LIMIT_BYTES = 64;
const SHOWN_CONTENT_CHARS = 40;
const POLL_INTERVAL_MS = 15;

export type PidfileResult = { pid: number } | { problem: string };

// What one read found; "missing" and "empty" mean "not written yet" to waitForPidfile.
type PidfileState =
  | { kind: "pid"; pid: number }
  | { kind: "missing" | "empty" | "invalid"; problem: string };

const showContent = (text: string, isCut: boolean): string =>
  JSON.stringify(text.length > SHOWN_CONTENT_CHARS || isCut ? `${text.slice(0, SHOWN_CONTENT_CHARS)}...` : text);

// Parse pidfile content: a positive decimal integer within pid_max, surrounding whitespace allowed.
const parsePidfileContent = (path: string, content: string, isCut = false): PidfileState => {
  const text = content.trim();
  if (text === "" && !isCut) return { kind: "empty", problem: `pidfile ${path}: is empty` };
  if (isCut || !/^\d+$/.test(text)) {
    return { kind: "invalid", problem: `pidfile ${path}: expected a process id, got ${showContent(text, isCut)}` };
  }
  const pid = Number(text);
  if (pid < 1 || pid > PID_MAX_LIMIT) {
    return { kind: "invalid", problem: `pidfile ${path}: expected a process id from 1 to ${PID_MAX_LIMIT}, got ${showContent(text, false)}` };
  }
  return { kind: "pid", pid };
};

// O_NONBLOCK: a FIFO at the path would otherwise block open(2) until a writer
// comes, freezing PID 1's event loop; on regular files the flag does nothing.
const readBounded = (path: string): { content: string; isCut: boolean } | { kind: "missing" | "invalid"; problem: string } => {
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
    if (!fstatSync(fd).isFile()) return { kind: "invalid", problem: `pidfile ${path}: is not a regular file` };
    const buffer = Buffer.alloc(READ_LIMIT_BYTES + 1);
    let length = 0;
    // A short read is allowed by read(2) even on regular files: read until EOF or the limit.
    for (let got = -1; got !== 0 && length < buffer.length; length += got) {
      got = readSync(fd, buffer, length, buffer.length - length, null);
    }
    const isCut = length > READ_LIMIT_BYTES;
    return { content: buffer.toString("latin1", 0, Math.min(length, READ_LIMIT_BYTES)), isCut };
  } catch (error) {
    return { kind: "invalid", problem: `pidfile ${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  } finally {
    closeSync(fd);
  }
};

const readPidfileState = (path: string): PidfileState => {
  const read = readBounded(path);
  return "content" in read ? parsePidfileContent(path, read.content, read.isCut) : read;
};

/** The pid in a pidfile, or what is wrong with the file. */
export const readPidfile = (path: string): PidfileResult => {
  const state = readPidfileState(path);
  return state.kind === "pid" ? { pid: state.pid } : { problem: state.problem };
};

/** Whether a pid is a live process: kill(pid, 0) succeeds (or EPERM) and it is not a zombie. */
export const isProcessAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid < 1) return false; // 0 and negatives address groups, not a process
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user (a service run as its own user).
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // kill(2) succeeds on a zombie: it has exited but nobody reaped it yet.
  // Daemons re-parented to PID 1 stay zombies until the reaper's next pass.
  try {
    const entry = parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
    return entry === undefined || (entry.state !== "Z" && entry.state !== "X");
  } catch (error) {
    // ENOENT/ESRCH: reaped between kill and read. Anything else (no /proc
    // mounted): kill(2) is all we can go on.
    const code = (error as NodeJS.ErrnoException).code;
    return code !== "ENOENT" && code !== "ESRCH";
  }
};

/**
 * Wait until the pidfile names a live process. A missing, empty or unreadable file, or one
 * not naming a pid yet, is polled again until timeoutMs; a pid that is not
 * running ends the wait.
 */
export const waitForPidfile = async (path: string, timeoutMs: number, signal?: AbortSignal): Promise<PidfileResult> => {
  const deadline = monotonicMs() + timeoutMs;
  // Polling, not inotify: the directory may not exist yet either, and the wait is short.
  for (;;) {
    if (signal?.aborted) return { problem: `pidfile ${path}: stopped waiting: cancelled` };
    const state = readPidfileState(path);
    if (state.kind === "pid") {
      if (isProcessAlive(state.pid)) return { pid: state.pid };
      return { problem: `pidfile ${path} names pid ${state.pid}, which is not running` };
    }
    const remainingMs = deadline - monotonicMs();
    if (remainingMs <= 0) {
      const within = formatDurationMs(timeoutMs);
      // Content that never became a pid is worth showing; a file never written is not.
      if (state.kind === "invalid") return { problem: `${state.problem} (still, after ${within})` };
      if (state.kind === "empty") return { problem: `pidfile ${path} was still empty after ${within}` };
      return { problem: `pidfile ${path} did not appear within ${within}` };
    }
    await pause(Math.min(POLL_INTERVAL_MS, remainingMs), signal);
  }
};

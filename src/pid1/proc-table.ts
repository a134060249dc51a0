// Reads the process table from /proc: who descends from whom, for stopping
// "everything left" as a subreaper and for working without the addon.
import { readdirSync, readFileSync } from "node:fs";

/** One process as /proc/PID/stat shows it. */
export interface ProcEntry {
  pid: number;
  ppid: number;
  /** R, S, D, Z, T ... (Z: exited, not reaped yet) */
  state: string;
  /** process group */
  pgrp: number;
  /** session id (the pid of the session's leader, which setsid made) */
  session: number;
  /** start time in clock ticks after boot (field 22): tells a reused pid from the process once seen */
  startTicks: number;
  comm: string;
}

/** Parse one /proc/PID/stat line; comm may hold spaces and ')' so split at the last ')'. */
export const parseStat = (line: string): ProcEntry | undefined => {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  const fields = line.slice(close + 2).split(" ");
  const [state, ppid, pgrp, session] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])];
  // Field 22 counted from 1, of which the first two (pid, comm) are cut off above.
  const startTicks = Number(fields[19]);
  if (![pid, ppid, pgrp, session, startTicks].every(Number.isInteger) || state === undefined) return undefined;
  return { pid, ppid, state, pgrp, session, startTicks, comm: line.slice(open + 1, close) };
};

/** Every process visible in /proc now; processes that vanish mid-scan are skipped. */
export const readProcTable = (procRoot = "/proc"): ProcEntry[] => {
  const entries: ProcEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return entries; // no /proc mounted: nothing can be listed, callers fall back to kill(-1) or waiting
  }
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      const entry = parseStat(readFileSync(`${procRoot}/${name}/stat`, "latin1"));
      if (entry) entries.push(entry);
    } catch {
      // ENOENT/ESRCH: the process exited between readdir and read.
    }
  }
  return entries;
};

/** All descendants of root (not root itself), breadth first. */
export const descendantsOf = (root: number, table: readonly ProcEntry[]): ProcEntry[] => {
  const children = new Map<number, ProcEntry[]>();
  for (const entry of table) {
    const list = children.get(entry.ppid);
    if (list) list.push(entry);
    else children.set(entry.ppid, [entry]);
  }
  const found: ProcEntry[] = [];
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    for (const child of children.get(queue[i]!) ?? []) {
      if (child.pid === root) continue;
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
};

/** Descendants that are still running (zombies are gone already, only unreaped). */
export const liveDescendants = (root = process.pid): ProcEntry[] =>
  descendantsOf(root, readProcTable()).filter((entry) => entry.state !== "Z");

/** The stat entry of one process, or undefined when it is gone (or there is no /proc). */
export const readProcEntry = (pid: number | "self"): ProcEntry | undefined => {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return undefined;
  }
};

/**
 * A process's start time (field 22, clock ticks after boot) as text, for a
 * lock or job record to name the process by: a reused pid has another. Null
 * when it is gone (or there is no /proc).
 */
export const processStartTime = (pid: number): string | null => {
  const entry = readProcEntry(pid);
  return entry === undefined ? null : String(entry.startTicks);
};

// A process's environment can be a few hundred KiB; the entry looked for is
// short, so a bounded read of the start is enough and keeps a scan cheap.
const ENVIRON_READ_LIMIT_BYTES = 256 * 1024;

/**
 * Whether a process's initial environment (/proc/PID/environ) holds exactly
 * `entry` ("NAME=value"). False when it cannot be read (gone, another user's
 * process and boxinit not root) or when the process rewrote that memory
 * (PostgreSQL reuses it for its process title).
 */
export const hasEnvironmentEntry = (pid: number, entry: string): boolean => {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/environ`, "latin1").slice(0, ENVIRON_READ_LIMIT_BYTES);
  } catch {
    return false;
  }
  return text.split("\0").includes(entry);
};

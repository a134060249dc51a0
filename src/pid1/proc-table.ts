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
  comm: string;
}

/** Parse one /proc/PID/stat line; comm may hold spaces and ')' so split at the last ')'. */
export const parseStat = (line: string): ProcEntry | undefined => {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  const [state, ppidText, pgrpText] = line.slice(close + 2).split(" ");
  const ppid = Number(ppidText);
  const pgrp = Number(pgrpText);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isInteger(pgrp) || state === undefined) return undefined;
  return { pid, ppid, state, pgrp, comm: line.slice(open + 1, close) };
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

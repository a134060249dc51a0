// Retention of failure reports in <state_dir>/logs: at most `keep` reports and
// none older than maxAgeMs, oldest removed first. logs/ is shared with people
// and host tools, so only regular files named by reportFileName are touched,
// and only in logs/ as opened (by descriptor: a symlink swapped in at logs/
// after the open is not followed).
import { errnoCode } from "../control/atomic-write.ts";
import { kindOf } from "../control/dir-checks.ts";
import type { DirHandle } from "../control/dir-handle.ts";
import { parseReportTime } from "./report-name.ts";

export interface RetentionPolicy {
  /** Most reports kept. The config validates keep >= 1; here below 1 counts as 1, Infinity means no count limit. */
  keep: number;
  /** Reports whose encoded time is more than this before now are removed; Infinity means no age limit. */
  maxAgeMs: number;
}

export interface LogEntry {
  name: string;
  /** Informational only: order and age come from the time in the name, which survives a copy or a touch that mtime does not. */
  mtimeMs: number;
}

/**
 * Names to remove, oldest first: reports older than maxAgeMs, then the oldest
 * until at most `keep` remain. Names that are not reports are never listed.
 * Ordered by the time in the name, ties by name. A report stamped in the
 * future (clock skew) is young, never removed for its age. NaN in the policy
 * removes nothing for that rule: a bad number never widens removal.
 */
export const reportsToRemove = (entries: readonly LogEntry[], policy: RetentionPolicy, nowMs: number): string[] => {
  const reports = entries
    .flatMap((entry) => {
      const time = parseReportTime(entry.name);
      return time === undefined ? [] : [{ name: entry.name, timeMs: time.getTime() }];
    })
    .sort((a, b) => a.timeMs - b.timeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const keep = Math.max(1, Math.floor(policy.keep));
  const removed: string[] = [];
  for (const [index, report] of reports.entries()) {
    const remaining = reports.length - index;
    if (nowMs - report.timeMs > policy.maxAgeMs || remaining > keep) removed.push(report.name);
  }
  return removed;
};

export interface PruneResult {
  /** Names removed, oldest first. */
  removed: string[];
  /** "NAME: CODE" for each file that could not be examined or removed ("DIR: CODE" when logs/ cannot be listed). */
  errors: string[];
}

// Runs one fs call for `name`: its value, or undefined with the errno recorded (ENOENT: gone meanwhile, not recorded).
const attempt = <T>(result: PruneResult, name: string, call: () => T): T | undefined => {
  try {
    return call();
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    if (code !== "ENOENT") result.errors.push(`${name}: ${code}`);
    return undefined;
  }
};

/**
 * Applies reportsToRemove to logs/ (open). lstat, not stat: a symlink or a
 * directory named like a report is not ours and is skipped, and unlink(2)
 * never follows a link, so a file swapped for one after lstat is still safe.
 * A report already gone (another container pruning the shared directory) is
 * not an error. Never throws for file-system errors.
 */
export const pruneReports = (logs: DirHandle, policy: RetentionPolicy, nowMs = Date.now()): PruneResult => {
  const result: PruneResult = { removed: [], errors: [] };
  const names = attempt(result, logs.path, () => logs.list());
  if (names === undefined) return result;
  const entries: LogEntry[] = [];
  for (const name of names) {
    if (parseReportTime(name) === undefined) continue;
    const stats = attempt(result, name, () => logs.stat(name));
    if (stats !== undefined && kindOf(stats) === "file") entries.push({ name, mtimeMs: stats.mtimeMs });
  }
  for (const name of reportsToRemove(entries, policy, nowMs)) {
    const isRemoved = attempt(result, name, () => {
      logs.unlink(name);
      return true;
    });
    if (isRemoved) result.removed.push(name);
  }
  return result;
};

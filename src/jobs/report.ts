// The failure report: <state_dir>/logs/<ISO-8601>-cron-failure-<NAME>-exit-<CODE>-<HOST>,
// the seed's name, so the host's existing alerting keeps working. A short
// header says what ran and how it ended (control characters in names escaped,
// so a hostile name cannot forge header lines); the captured output follows. The file
// is created complete (temp file, then link, which never replaces an existing
// report) and readable by host tools running as another user. Everything
// happens in logs/ as opened once (control/dir-handle.ts): a symlink swapped in
// at logs/ meanwhile is never written through.
import { closeSync, constants, fsyncSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Native } from "../native/addon.ts";
import { formatDurationMs } from "../config/duration.ts";
import { errnoCode, removeStaleTemps } from "../control/atomic-write.ts";
import { escapeControls } from "../control/backoff.ts";
import { setModeOf } from "../control/dir-checks.ts";
import { withStateDir, type DirHandle } from "../control/dir-handle.ts";
import { isoSeconds, reportFileName } from "./report-name.ts";
import { LOGS_DIR, ownDir } from "./own-dir.ts";
import { isoTime } from "../time/iso-time.ts";

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

// File systems without hard links (CIFS, some FUSE mounts) answer these.
const UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

const REPORT_MODE = 0o644;

/** The prefix of a report's temp file name: ".report.<pid>.<random>.tmp". */
export const REPORT_TEMP_NAME = "report";

/** A copy that never replaces: the target is created O_EXCL, the bytes come from the temp file. */
const copyNew = (dir: DirHandle, from: string, to: string): void => {
  const source = dir.open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const target = dir.open(to, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, REPORT_MODE);
    try {
      setModeOf(target, REPORT_MODE);
      const buffer = Buffer.allocUnsafe(64 * 1024);
      for (let count = readSync(source, buffer); count > 0; count = readSync(source, buffer)) writeAllBytes(target, buffer.subarray(0, count));
      fsyncSync(target);
    } finally {
      closeSync(target);
    }
  } finally {
    closeSync(source);
  }
};

/**
 * Put the finished temp file at `target` without replacing anything there:
 * link(2), or an exclusive copy where the file system has no hard links.
 */
const placeNew = (dir: DirHandle, temp: string, target: string): void => {
  try {
    dir.link(temp, target);
  } catch (error) {
    if (!UNSUPPORTED.has(errnoCode(error) ?? "")) throw error;
    copyNew(dir, temp, target);
  }
};

export { LOGS_DIR };

/** What the header says about one run. */
export interface RunSummary {
  name: string;
  runId: string;
  command: readonly string[];
  hostname: string;
  startedAt: Date;
  endedAt: Date;
  durationMs: number;
  exitCode: number;
  /** "exit 3", "signal SIGKILL (exit 137)", "timed out after 5s: SIGTERM (exit 124)" */
  outcome: string;
  totalBytes: number;
  cutBytes: number;
  /** Why there is no output, when there is none to show (no addon). */
  captureNote?: string;
}

/** The report's header lines (pure). */
export const reportHeader = (run: RunSummary): string => {
  const lines = [
    "# boxinit job failure report",
    `job: ${escapeControls(run.name)}`,
    `run: ${run.runId}`,
    `command: ${JSON.stringify(run.command)}`,
    `host: ${escapeControls(run.hostname)}`,
    `started: ${isoTime(run.startedAt.getTime())}`,
    `ended: ${isoTime(run.endedAt.getTime())}`,
    `duration: ${formatDurationMs(Math.round(run.durationMs))}`,
    `result: ${run.outcome}`,
    `output: ${run.totalBytes} bytes${run.cutBytes > 0 ? `, ${run.cutBytes} cut from the middle` : ""}${run.captureNote ? ` (${run.captureNote})` : ""}`,
    "--- output (stdout and stderr as they arrived) ---",
  ];
  return `${lines.join("\n")}\n`;
};

// Two failures of one job in the same second: the later gets the next free second.
const NAME_ATTEMPTS = 60;

/** A report being written: its temp file in logs/ (held open by descriptor), open for writing. */
export interface ReportDraft {
  /** logs/, open; closed when the draft is finished or abandoned. */
  dir: DirHandle;
  /** The temp file's name in dir. */
  temp: string;
  fd: number;
}

/**
 * Open a fresh temp file in <stateDir>/logs for a report, readable by host
 * tools running as another user. With the addon the writer holds flock on it
 * while it lives, so a sweep elsewhere (sweepReportTemps) can tell a killed
 * writer's leftover from a slow live one. Throws the system error.
 */
export const startReport = (stateDir: string, native: Native | undefined): ReportDraft => {
  const dir = withStateDir(stateDir, native, (root) => ownDir(root, LOGS_DIR));
  try {
    const temp = `.${REPORT_TEMP_NAME}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
    const fd = dir.open(temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, REPORT_MODE);
    try {
      setModeOf(fd, REPORT_MODE);
      markInUse(fd, native);
    } catch (error) {
      closeSync(fd);
      discardTemp(dir, temp);
      throw error;
    }
    return { dir, temp, fd };
  } catch (error) {
    dir.close();
    throw error;
  }
};

// Best effort: a file system without flock (ENOLCK) leaves the temp to the sweep's age rule.
const markInUse = (fd: number, native: Native | undefined): void => {
  try {
    native?.tryLock(fd);
  } catch {
    // The sweep falls back to age for this file.
  }
};

/** Append bytes to a report being written. */
export const writeAllBytes = (fd: number, bytes: Uint8Array): void => {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written);
};

/**
 * Close the draft and give it its name, `nameAt(at)` for the first free second
 * from `at` on; returns the path relative to the state directory (`logs/…`).
 * The temp file is gone afterwards, whether it worked or threw.
 */
export const finishReport = (draft: ReportDraft, at: Date, nameAt: (at: Date) => string): string => {
  try {
    // On disk before it has its name: the host tool removes the only other
    // copy (the container) right after, and a crash must not leave an empty report.
    fsyncSync(draft.fd);
    closeSync(draft.fd);
    for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
      const name = nameAt(new Date(at.getTime() + attempt * 1000));
      try {
        // link(2) fails with EEXIST instead of replacing an earlier report.
        placeNew(draft.dir, draft.temp, name);
        syncDirectory(draft.dir);
        return join(LOGS_DIR, name);
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw error;
      }
    }
    throw Object.assign(new Error(`no free report name in ${NAME_ATTEMPTS} s after ${isoSeconds(at)}`), { code: "EEXIST" });
  } finally {
    discardTemp(draft.dir, draft.temp);
    draft.dir.close();
  }
};

/** Give up on a draft (its writer failed): close it and remove the temp file. */
export const abandonReport = (draft: ReportDraft): void => {
  try {
    closeSync(draft.fd);
  } catch {
    // Already closed by finishReport.
  }
  discardTemp(draft.dir, draft.temp);
  draft.dir.close();
};

// The new name itself is a change of the directory; fsync(2) it too. File
// systems that cannot (some FUSE mounts) say EINVAL: the data is synced already.
const syncDirectory = (dir: DirHandle): void => {
  try {
    dir.sync();
  } catch (error) {
    if (!UNSUPPORTED.has(errnoCode(error) ?? "") && errnoCode(error) !== "EINVAL") throw error;
  }
};

const discardTemp = (dir: DirHandle, temp: string): void => {
  try {
    dir.unlink(temp);
  } catch {
    // Already gone; nothing else to clean.
  }
};

// A temp file whose writer's flock is free and that is this old is a killed
// run's (the writer takes the flock microseconds after creating it). Without
// flock (no addon, or a file system without it), only age tells: a host cron
// may stream a long container log into its temp file, so wait much longer.
const STALE_LOCKED_TEMP_AGE_MS = 60_000;
const STALE_UNLOCKED_TEMP_AGE_MS = 60 * 60_000;

/** Whether a report temp file's writer is (or may be) alive: its flock is held, or nothing tells and it is young. */
const isWriterAlive = (dir: DirHandle, native: Native | undefined, name: string, ageMs: number): boolean => {
  if (!native) return ageMs < STALE_UNLOCKED_TEMP_AGE_MS;
  let fd: number;
  try {
    fd = dir.open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return true; // gone meanwhile, or not ours to open: leave it
  }
  try {
    return !native.tryLock(fd);
  } catch {
    return ageMs < STALE_UNLOCKED_TEMP_AGE_MS;
  } finally {
    closeSync(fd); // drops the flock if we took it
  }
};

/**
 * Remove report temp files (logs/.report.*.tmp, up to the capture size each)
 * left by runs killed while writing. Returns the count; never throws for
 * file-system errors.
 */
export const sweepReportTemps = (logs: DirHandle, native: Native | undefined, nowMs = Date.now()): number =>
  removeStaleTemps(logs, REPORT_TEMP_NAME, STALE_LOCKED_TEMP_AGE_MS, nowMs, (name, ageMs) => isWriterAlive(logs, native, name, ageMs));

/**
 * Write the report; returns its path relative to the state directory
 * (`logs/…`). Throws the system error when it cannot be written.
 */
export const writeReport = (stateDir: string, native: Native | undefined, run: RunSummary, output: Buffer): string => {
  const draft = startReport(stateDir, native);
  try {
    writeAllBytes(draft.fd, Buffer.from(reportHeader(run)));
    writeAllBytes(draft.fd, output);
  } catch (error) {
    abandonReport(draft);
    throw error;
  }
  return finishReport(draft, run.startedAt, (at) => reportFileName(at, run.name, run.exitCode, run.hostname));
};

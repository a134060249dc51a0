// The failure report: <state_dir>/logs/<ISO-8601>-cron-failure-<NAME>-exit-<CODE>-<HOST>,
// the seed's name, so the host's existing alerting keeps working. A short
// header says what ran and how it ended (control characters in names escaped,
// so a hostile name cannot forge header lines); the captured output follows. The file
// is created complete (temp file, then link, which never replaces an existing
// report) and readable by host tools running as another user.
import { closeSync, constants, copyFileSync, fchmodSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { formatDurationMs } from "../config/duration.ts";
import { errnoCode } from "../control/atomic-write.ts";
import { escapeControls } from "../control/backoff.ts";
import { isoSeconds, reportFileName } from "./report-name.ts";
import { ownDir } from "./own-dir.ts";

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = constants;
const { COPYFILE_EXCL } = constants;

// File systems without chmod or hard links (CIFS, some FUSE mounts) answer these.
const UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/**
 * Put the finished temp file at `target` without replacing anything there:
 * link(2), or an exclusive copy where the file system has no hard links.
 */
const placeNew = (temp: string, target: string): void => {
  try {
    linkSync(temp, target);
  } catch (error) {
    if (!UNSUPPORTED.has(errnoCode(error) ?? "")) throw error;
    copyFileSync(temp, target, COPYFILE_EXCL);
  }
};

export const LOGS_DIR = "logs";

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
    `started: ${run.startedAt.toISOString()}`,
    `ended: ${run.endedAt.toISOString()}`,
    `duration: ${formatDurationMs(Math.round(run.durationMs))}`,
    `result: ${run.outcome}`,
    `output: ${run.totalBytes} bytes${run.cutBytes > 0 ? `, ${run.cutBytes} cut from the middle` : ""}${run.captureNote ? ` (${run.captureNote})` : ""}`,
    "--- output (stdout and stderr as they arrived) ---",
  ];
  return `${lines.join("\n")}\n`;
};

// Two failures of one job in the same second: the later gets the next free second.
const NAME_ATTEMPTS = 60;

/** A report being written: its temp file in logs/, open for writing. */
export interface ReportDraft {
  dir: string;
  temp: string;
  fd: number;
}

/**
 * Open a fresh temp file in <stateDir>/logs for a report, readable by host
 * tools running as another user. Throws the system error.
 */
export const startReport = (stateDir: string): ReportDraft => {
  const dir = ownDir(stateDir, LOGS_DIR);
  const temp = join(dir, `.report.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  const fd = openSync(temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644);
  try {
    fchmodSync(fd, 0o644);
  } catch (error) {
    if (!UNSUPPORTED.has(errnoCode(error) ?? "")) {
      closeSync(fd);
      unlinkSync(temp);
      throw error;
    }
  }
  return { dir, temp, fd };
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
        placeNew(draft.temp, join(draft.dir, name));
        syncDirectory(draft.dir);
        return join(LOGS_DIR, name);
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw error;
      }
    }
    throw Object.assign(new Error(`no free report name in ${NAME_ATTEMPTS} s after ${isoSeconds(at)}`), { code: "EEXIST" });
  } finally {
    discardTemp(draft.temp);
  }
};

/** Give up on a draft (its writer failed): close it and remove the temp file. */
export const abandonReport = (draft: ReportDraft): void => {
  try {
    closeSync(draft.fd);
  } catch {
    // Already closed by finishReport.
  }
  discardTemp(draft.temp);
};

// The new name itself is a change of the directory; fsync(2) it too. File
// systems that cannot (some FUSE mounts) say EINVAL: the data is synced already.
const syncDirectory = (dir: string): void => {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!UNSUPPORTED.has(errnoCode(error) ?? "") && errnoCode(error) !== "EINVAL") throw error;
  } finally {
    closeSync(fd);
  }
};

const discardTemp = (temp: string): void => {
  try {
    unlinkSync(temp);
  } catch {
    // Already gone; nothing else to clean.
  }
};

/**
 * Write the report; returns its path relative to the state directory
 * (`logs/…`). Throws the system error when it cannot be written.
 */
export const writeReport = (stateDir: string, run: RunSummary, output: Buffer): string => {
  const draft = startReport(stateDir);
  try {
    writeAllBytes(draft.fd, Buffer.from(reportHeader(run)));
    writeAllBytes(draft.fd, output);
  } catch (error) {
    abandonReport(draft);
    throw error;
  }
  return finishReport(draft, run.startedAt, (at) => reportFileName(at, run.name, run.exitCode, run.hostname));
};

// `boxinit job`'s last word for Kubernetes: one line (the job, its exit code,
// its report) in the container's termination message file, which the kubelet
// mounts at /dev/termination-log and `kubectl describe pod` shows. Only when
// that file exists (never created: in Docker there is none); a write that
// fails is logged and never changes the job's exit code.
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import { errnoCode } from "../control/atomic-write.ts";
import { escapeControls } from "../control/backoff.ts";
import type { JobResult } from "./job-status.ts";

/** Where the kubelet mounts the file (a container's terminationMessagePath). */
export const TERMINATION_LOG_PATH = "/dev/termination-log";

/** The file's path: BOXINIT_TERMINATION_LOG (for tests, or another terminationMessagePath), else the kubelet's. */
export const terminationLogPath = (env: NodeJS.ProcessEnv = process.env): string =>
  env.BOXINIT_TERMINATION_LOG === undefined || env.BOXINIT_TERMINATION_LOG === "" ? TERMINATION_LOG_PATH : env.BOXINIT_TERMINATION_LOG;

// The kubelet keeps at most 4096 bytes of a container's message.
const MAX_MESSAGE_BYTES = 4096;

/** How a run ended, as the harness's JobOutcome says it. */
export type RunEnd =
  | { kind: "skipped"; reason: string; exitCode: 0 }
  | { kind: "finished"; exitCode: number; result: JobResult; reportFile?: string };

/** The one line (pure): `job NAME: exit 3 (failed), report /docker/logs/…`. */
export const terminationSummary = (name: string, end: RunEnd, stateDir: string): string => {
  const job = `job ${escapeControls(name)}`;
  if (end.kind === "skipped") return `${job}: not run: ${escapeControls(end.reason)} (exit 0)\n`;
  const head = `${job}: exit ${end.exitCode} (${end.result})`;
  if (end.reportFile !== undefined) return `${head}, report ${escapeControls(join(stateDir, end.reportFile))}\n`;
  return end.exitCode === 0 ? `${head}\n` : `${head}, no report saved (see boxinit's log)\n`;
};

export type TerminationWrite = "written" | "absent" | "failed";

/**
 * Write the summary to the termination message file when it exists. Opened
 * without O_CREAT (absent: nothing to do) and non-blocking (a FIFO with no
 * reader must not hang the job's end). Never throws.
 */
export const writeTerminationLog = (summary: string, log: Logger, path = terminationLogPath()): TerminationWrite => {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return "absent";
    log.warn("job", `cannot write the termination message: ${(error as Error).message}`, { path });
    return "failed";
  }
  try {
    writeSync(fd, Buffer.from(summary).subarray(0, MAX_MESSAGE_BYTES));
    return "written";
  } catch (error) {
    log.warn("job", `cannot write the termination message: ${(error as Error).message}`, { path });
    return "failed";
  } finally {
    closeSync(fd);
  }
};

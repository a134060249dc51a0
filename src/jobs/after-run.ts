// What follows a run: the report of a failure, logs/ tidied (killed writers'
// temp files after every run, retention after a failure), and the on_failure
// hook within the stop's budget. None of them throws into the harness.
import { join } from "node:path";
import { escapeControls } from "../control/backoff.ts";
import { errnoCode } from "../control/atomic-write.ts";
import { stateDirHint, withStateDir } from "../control/dir-handle.ts";
import type { OutputCapture } from "./capture.ts";
import { runHook } from "./hook.ts";
import { shown, within, type Ran, type RunState } from "./job-process.ts";
import { existingOwnDir, LOGS_DIR } from "./own-dir.ts";
import { sweepReportTemps, writeReport, type RunSummary } from "./report.ts";
import { pruneReports } from "./retention.ts";
import type { JobContext, JobSpec } from "./types.ts";
import type { Verdict } from "./verdict.ts";

/** A run's identity and times, as its report and record give them. */
export interface RunTimes {
  runId: string;
  startedAt: Date;
  endedAt: Date;
  durationMs: number;
}

const saveReport = (spec: JobSpec, context: JobContext, summary: RunSummary, output: Buffer): string | undefined => {
  const { log } = context;
  try {
    const file = writeReport(spec.stateDir, context.native, summary, output);
    log.warn("job-failed", `job ${escapeControls(summary.name)} failed: ${summary.outcome}; report saved`, { job: spec.name, code: summary.exitCode, report: join(spec.stateDir, file) });
    return file;
  } catch (error) {
    const code = errnoCode(error);
    log.error("job-failed", `job ${escapeControls(summary.name)} failed: ${summary.outcome}; the report could not be saved: ${code ?? (error as Error).message}`, {
      job: spec.name, code: summary.exitCode, dir: spec.stateDir, ...(code !== undefined && { error: (error as Error).message }), hint: stateDirHint(code),
    });
    return undefined;
  }
};

/** The report of a failed run: what it printed (or why it did not start), saved in logs/; its file name, or undefined. */
export const saveFailureReport = (spec: JobSpec, context: JobContext, times: RunTimes, ran: Ran, capture: OutputCapture, verdict: Verdict): string | undefined => {
  const output = ran.notStarted ? Buffer.from(`boxinit: ${ran.notStarted.problem}\n`) : capture.render();
  return saveReport(spec, context, {
    name: spec.name, runId: times.runId, command: spec.command, hostname: spec.hostname, startedAt: times.startedAt, endedAt: times.endedAt, durationMs: times.durationMs,
    exitCode: verdict.exitCode, outcome: verdict.outcome, totalBytes: ran.notStarted ? output.length : capture.totalBytes, cutBytes: capture.cutBytes,
    ...(ran.captureNote && { captureNote: ran.captureNote }),
  }, output);
};

/**
 * After every run: temp files of report writers that were killed are swept;
 * after a failure, retention. Both only in logs/ as it exists (never created
 * for this). Never throws.
 */
export const tidyLogs = (spec: JobSpec, context: JobContext, hasFailed: boolean): void => {
  const { log } = context;
  try {
    withStateDir(spec.stateDir, context.native, (root) => {
      const logs = existingOwnDir(root, LOGS_DIR);
      if (!logs) return;
      try {
        const swept = sweepReportTemps(logs, context.native);
        if (swept > 0) log.info("job", "removed temp files of report writers that were killed", { dir: logs.path, count: swept });
        if (!hasFailed) return;
        const { removed, errors } = pruneReports(logs, spec.retention);
        if (removed.length > 0) log.info("job", "removed old failure reports", { count: removed.length, oldest: removed[0] });
        for (const error of errors) log.warn("job", `cannot remove an old failure report: ${error}`);
      } finally {
        logs.close();
      }
    });
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    // ENOENT: no state directory, nothing to tidy; a symlink at logs/ is refused, and said.
    if (code !== "ENOENT") log.warn("job", `cannot tidy the failure reports: ${(error as Error).message}`, { dir: spec.stateDir, hint: stateDirHint(code) });
  }
};

// Below this, a hook has no time to do anything useful before the stop's deadline.
const MIN_HOOK_MS = 500;

// After the hook's SIGTERM at its timeout, SIGKILL follows after this.
const HOOK_KILL_GRACE_MS = 2000;

/**
 * The hook after a failure, bounded by its timeout and by the stop's deadline:
 * when a stop is on, its SIGKILL lands by that deadline. A stop that comes
 * while it runs reaches it through state.hook. Its environment says which run
 * failed, how, and where its report is.
 */
export const runFailureHook = async (spec: JobSpec, context: JobContext, state: RunState, runId: string, verdict: Verdict, reportFile: string | undefined): Promise<void> => {
  const env = {
    BOXINIT_JOB: spec.name, BOXINIT_RUN_ID: runId, BOXINIT_EXIT_CODE: String(verdict.exitCode), BOXINIT_SIGNAL: verdict.signal ?? "",
    BOXINIT_LOG_FILE: reportFile ? join(spec.stateDir, reportFile) : "", BOXINIT_HOSTNAME: spec.hostname,
  };
  const availableMs = within(state, spec.hookTimeoutMs + HOOK_KILL_GRACE_MS);
  if (availableMs < MIN_HOOK_MS) {
    context.log.warn("job-hook", `on_failure hook of job ${shown(spec)} not run: the stop's grace period is used up`, { job: spec.name });
    return;
  }
  const killGraceMs = Math.min(HOOK_KILL_GRACE_MS, availableMs / 4);
  await runHook(spec.onFailure!, env, { timeoutMs: Math.min(spec.hookTimeoutMs, availableMs - killGraceMs), killGraceMs }, context, (hook) => {
    state.hook = hook;
  });
};

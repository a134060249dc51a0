// The job harness: one run of a batch job, the same for `boxinit job` and for
// PID 1's scheduled jobs. In order: backoff (engaged: run nothing), the lock
// (held: run nothing), the run with its output passed through and captured,
// then for a failure the report and the on_failure hook, the record in
// status.json, retention of old reports, and the lock released. The process
// itself (spawn, output, timeout, leftovers) is job-process.ts.
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import { formatDurationMs } from "../config/duration.ts";
import { checkBackoff, escapeControls } from "../control/backoff.ts";
import { errnoCode } from "../control/atomic-write.ts";
import { byPathWarningOnce, makeDirs, stateDirHint, withStateDir } from "../control/dir-handle.ts";
import { exitCodeFor } from "../pid1/exit-code.ts";
import { signalGroup } from "../pid1/send-signal.ts";
import { signalLabel } from "../pid1/signals.ts";
import { monotonicMs, pause } from "../time/clock.ts";
import { killGroupAt, runCommandOf, shown, within, type Ran, type RunState } from "./job-process.ts";
import { OutputCapture } from "./capture.ts";
import { killedRecord, updateJobRecord, type JobRecord, type JobResult, type RecordOptions } from "./job-status.ts";
import { currentRunner } from "./record-upkeep.ts";
import { runHook } from "./hook.ts";
import { processStartTime, tryJobLock, type JobLock, type LockOwner } from "./lock.ts";
import { sweepReportTemps, writeReport, type RunSummary } from "./report.ts";
import { sanitizeNamePart } from "./report-name.ts";
import { pruneReports } from "./retention.ts";
import { existingOwnDir, LOGS_DIR, OWN_DIR_MODE } from "./own-dir.ts";
import type { JobContext, JobSpec } from "./types.ts";

export type { JobContext, JobSpec };

/** GNU timeout's code for "the command timed out". */
export const TIMEOUT_EXIT_CODE = 124;

const LOCK_WAIT_POLL_MS = 250;

export type JobOutcome =
  | { kind: "skipped"; reason: string; exitCode: 0 }
  | { kind: "finished"; exitCode: number; result: JobResult; reportFile?: string };

export interface JobRun {
  outcome: Promise<JobOutcome>;
  /** Ask a running job to stop: signal to its group now, SIGKILL after graceMs. Before it starts: it will not. */
  stop(signal: number, graceMs: number): void;
  /** Pass a signal on to the running job's process group (nothing when none runs). */
  forward(signal: number): void;
}

const newRunId = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** Start one run; the outcome resolves when everything about it is done. */
export const startJob = (spec: JobSpec, context: JobContext): JobRun => {
  const aborted = new AbortController();
  const state: RunState = {};
  const stop = (signal: number, graceMs: number): void => {
    aborted.abort();
    const until = monotonicMs() + graceMs;
    state.stopUntil = Math.min(state.stopUntil ?? until, until);
    // The job, or its on_failure hook when that is what runs now.
    for (const target of [state.running, state.hook]) {
      if (!target || target.isDone) continue;
      signalGroup(target.pid, signal);
      killGroupAt(target, state.stopUntil);
    }
  };
  const forward = (signal: number): void => {
    if (state.running && !state.running.isDone) signalGroup(state.running.pid, signal);
  };
  const outcome = runJob(spec, context, aborted.signal, state);
  return { outcome, stop, forward };
};

/** Records of jobs not run for as long as reports are kept are removed from status.json. */
const recordOptions = (spec: JobSpec): RecordOptions => ({ keepRecordsForMs: spec.retention.maxAgeMs });

/** The earlier run, still "running" in its record although its lock was free: its harness died before recording the end. */
const earlierRunKilled = (spec: JobSpec, log: Logger, previous: JobRecord): JobRecord => {
  log.warn("job", `job ${shown(spec)}: the earlier run (started ${previous.lastStart ?? "?"}) ended without recording its end (its boxinit was killed): recorded as killed`, {
    job: spec.name, ...(previous.runner && { pid: previous.runner.pid, run: previous.runner.runId }),
  });
  return killedRecord(previous);
};

const skip = (spec: JobSpec, context: JobContext, reason: string, fields: Record<string, string | number | undefined> = {}): JobOutcome => {
  context.log.info("job-skipped", `job ${shown(spec)} not run: ${reason}`, { job: spec.name, ...fields });
  updateJobRecord(spec.stateDir, spec.name, context.native, context.log, (previous) => ({
    ...previous, lastSkip: { at: new Date().toISOString(), reason },
  }), recordOptions(spec));
  return { kind: "skipped", reason, exitCode: 0 };
};

const ensureStateDir = (spec: JobSpec, context: JobContext): void => {
  const warning = byPathWarningOnce(context.native);
  if (warning) context.log.warn("state-dir", warning, { dir: spec.stateDir });
  try {
    // 0755 whatever the umask: host tools and runs under other uids read it.
    makeDirs(spec.stateDir, OWN_DIR_MODE);
  } catch (error) {
    const code = errnoCode(error);
    context.log.warn("job", "cannot create the state directory: no lock, record or report for this run", { dir: spec.stateDir, error: code ?? String(error), hint: stateDirHint(code) });
  }
};

/** The backoff check: engaged means run nothing. */
const isBackedOff = (spec: JobSpec, log: Logger): boolean => {
  const backoff = checkBackoff(spec.stateDir);
  if (backoff.readError) log.warn("backoff", `cannot read the backoff file (${backoff.readError}): running the job`, { dir: spec.stateDir });
  if (backoff.unexpected !== undefined) log.warn("backoff", "backoff file holds neither true nor false: not engaged", { content: backoff.unexpected });
  return backoff.engaged;
};

const describeOwner = (owner: LockOwner | undefined): Record<string, string | number | undefined> =>
  owner ? { pid: owner.pid, host: owner.host, run: owner.runId, since: owner.startedAt } : {};

/**
 * The lock's file name: the sanitised name, plus a short hash of the real one
 * when sanitising changed it, so `../x` and `_x` do not block each other.
 */
export const lockFileName = (name: string): string => {
  const safe = sanitizeNamePart(name, "job");
  if (safe === name) return safe;
  const hash = process.getBuiltinModule("node:crypto").createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${safe}-${hash}`;
};

/** Take the lock, waiting up to spec.waitMs; a JobOutcome when the run must not happen. */
const takeLock = async (spec: JobSpec, context: JobContext, me: LockOwner, aborted: AbortSignal): Promise<JobLock | undefined | JobOutcome> => {
  const { log } = context;
  const fileName = lockFileName(spec.name);
  const deadline = monotonicMs() + spec.waitMs;
  for (;;) {
    const attempt = tryJobLock(spec.stateDir, fileName, me, context.native);
    if (attempt.kind === "unavailable") {
      log.warn("job", `cannot lock the job (${attempt.reason}): running it without overlap protection`, { job: spec.name, dir: spec.stateDir, hint: stateDirHint(attempt.reason) });
      return undefined;
    }
    if (attempt.kind === "taken") {
      if (attempt.stale !== undefined) {
        log.warn("job", "took over the lock of an earlier run that ended without releasing it", {
          job: spec.name, ...(attempt.stale === "unreadable" ? { owner: "unreadable" } : describeOwner(attempt.stale)),
        });
      }
      return attempt.lock;
    }
    if (aborted.aborted) return skip(spec, context, "stopped while waiting for the running instance");
    if (monotonicMs() >= deadline) return skip(spec, context, "already running", describeOwner(attempt.owner));
    await pause(Math.min(LOCK_WAIT_POLL_MS, Math.max(0, deadline - monotonicMs())), aborted);
  }
};

/** Exit code, result word and the report's wording for a finished run. */
export const judge = (ran: Pick<Ran, "ending" | "notStarted" | "timedOut">, spec: Pick<JobSpec, "timeoutMs">): { exitCode: number; result: JobResult; outcome: string; signal: string | null } => {
  if (ran.notStarted) return { exitCode: ran.notStarted.exitCode, result: "failed", outcome: `not started: ${ran.notStarted.problem} (exit ${ran.notStarted.exitCode})`, signal: null };
  const ending = ran.ending!;
  const signal = ending.signal === null ? null : signalLabel(ending.signal);
  if (ran.timedOut) {
    const how = signal ? `${signal}` : `exit ${exitCodeFor(ending)}`;
    return { exitCode: TIMEOUT_EXIT_CODE, result: "timeout", outcome: `timed out after ${formatDurationMs(spec.timeoutMs ?? 0)}, ended by ${how} (exit ${TIMEOUT_EXIT_CODE})`, signal };
  }
  const exitCode = exitCodeFor(ending);
  if (signal) return { exitCode, result: "signal", outcome: `killed by ${signal} (exit ${exitCode})`, signal };
  return { exitCode, result: exitCode === 0 ? "ok" : "failed", outcome: `exit ${exitCode}`, signal };
};

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

/**
 * After every run: temp files of report writers that were killed are swept;
 * after a failure, retention. Both only in logs/ as it exists (never created
 * for this). Never throws.
 */
const tidyLogs = (spec: JobSpec, context: JobContext, hasFailed: boolean): void => {
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
 * while it runs reaches it through state.hook.
 */
const runHookWithin = async (spec: JobSpec, context: JobContext, state: RunState, env: Record<string, string>): Promise<void> => {
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

const runJob = async (spec: JobSpec, context: JobContext, aborted: AbortSignal, state: RunState): Promise<JobOutcome> => {
  const { log } = context;
  ensureStateDir(spec, context);
  if (isBackedOff(spec, log)) return skip(spec, context, "backoff engaged");
  const runId = newRunId();
  const startedAt = new Date();
  const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), host: spec.hostname, runId, startedAt: startedAt.toISOString() };
  const lock = await takeLock(spec, context, me, aborted);
  if (lock !== undefined && "kind" in lock) return lock;
  try {
    if (aborted.aborted) return skip(spec, context, "stopped before it started");
    const runner = currentRunner(runId, spec.hostname);
    updateJobRecord(spec.stateDir, spec.name, context.native, log, (previous) => ({
      // Holding the lock, a record that still says "running" is a run that is gone.
      ...(previous.running && lock !== undefined ? earlierRunKilled(spec, log, previous) : previous),
      running: true, runner, lastStart: startedAt.toISOString(),
    }), recordOptions(spec));
    const capture = new OutputCapture(spec.captureBytes);
    const startMs = monotonicMs();
    const ran = await runCommandOf(spec, context, runId, capture, state);
    // The run's own length: stopping what it left behind is not part of it.
    const durationMs = (ran.endedMs ?? monotonicMs()) - startMs;
    const endedAt = ran.endedAt ?? new Date();
    const verdict = judge(ran, spec);
    let reportFile: string | undefined;
    if (verdict.exitCode !== 0) {
      const output = ran.notStarted ? Buffer.from(`boxinit: ${ran.notStarted.problem}\n`) : capture.render();
      reportFile = saveReport(spec, context, {
        name: spec.name, runId, command: spec.command, hostname: spec.hostname, startedAt, endedAt, durationMs,
        exitCode: verdict.exitCode, outcome: verdict.outcome, totalBytes: ran.notStarted ? output.length : capture.totalBytes, cutBytes: capture.cutBytes,
        ...(ran.captureNote && { captureNote: ran.captureNote }),
      }, output);
    } else {
      log.info("job", `job ${shown(spec)} succeeded`, { job: spec.name, duration: formatDurationMs(Math.round(durationMs)) });
    }
    tidyLogs(spec, context, verdict.exitCode !== 0);
    // Recorded before the hook: a stop that ends the hook early must not lose the result.
    updateJobRecord(spec.stateDir, spec.name, context.native, log, (previous): JobRecord => ({
      ...previous,
      running: false,
      runner: null,
      lastStart: startedAt.toISOString(),
      lastEnd: endedAt.toISOString(),
      lastExit: verdict.exitCode,
      lastSignal: verdict.signal,
      lastResult: verdict.result,
      lastDurationMs: Math.round(durationMs),
      logFile: reportFile ?? null,
      runs: previous.runs + 1,
      failures: previous.failures + (verdict.exitCode === 0 ? 0 : 1),
    }), recordOptions(spec));
    if (verdict.exitCode !== 0 && spec.onFailure) {
      await runHookWithin(spec, context, state, {
        BOXINIT_JOB: spec.name, BOXINIT_RUN_ID: runId, BOXINIT_EXIT_CODE: String(verdict.exitCode), BOXINIT_SIGNAL: verdict.signal ?? "",
        BOXINIT_LOG_FILE: reportFile ? join(spec.stateDir, reportFile) : "", BOXINIT_HOSTNAME: spec.hostname,
      });
    }
    return { kind: "finished", exitCode: verdict.exitCode, result: verdict.result, ...(reportFile && { reportFile }) };
  } finally {
    try {
      lock?.release();
    } catch (error) {
      log.warn("job", `cannot release the job's lock: ${errnoCode(error) ?? (error as Error).message}`, { job: spec.name });
    }
  }
};

// The job harness: one run of a batch job, the same for `boxinit job` and for
// PID 1's scheduled jobs. In order: backoff (engaged: run nothing), the lock
// (held: run nothing), the run with its output passed through and captured,
// then for a failure the report and the on_failure hook, the record in
// status.json, retention of old reports, and the lock released. The process
// itself (spawn, output, timeout, leftovers) is job-process.ts; how it ended,
// verdict.ts; the report, logs/ and the hook after it, after-run.ts; its
// record, run-record.ts.
import type { Logger } from "../log/logger.ts";
import { formatDurationMs } from "../config/duration.ts";
import { checkBackoffFile } from "../control/backoff.ts";
import { errnoCode } from "../control/atomic-write.ts";
import { byPathWarningOnce, makeDirs, stateDirHint } from "../control/dir-handle.ts";
import { signalGroup } from "../pid1/send-signal.ts";
import { monotonicMs, pause } from "../time/clock.ts";
import { runFailureHook, saveFailureReport, tidyLogs } from "./after-run.ts";
import { killGroupAt, runCommandOf, shown, type RunState } from "./job-process.ts";
import { OutputCapture } from "./capture.ts";
import type { JobResult } from "./job-status.ts";
import { tryJobLock, type JobLock, type LockOwner } from "./lock.ts";
import { processStartTime } from "../pid1/proc-table.ts";
import { sanitizeNamePart } from "./report-name.ts";
import { OWN_DIR_MODE } from "./own-dir.ts";
import { recordEnd, recordSkip, recordStart } from "./run-record.ts";
import type { JobContext, JobSpec } from "./types.ts";
import { judge } from "./verdict.ts";
import { isoTime } from "../time/iso-time.ts";

export type { JobContext, JobSpec };

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

/** A run that does not happen: said, and recorded with its reason. */
const skip = (spec: JobSpec, context: JobContext, reason: string, fields: Record<string, string | number | undefined> = {}): JobOutcome => {
  context.log.info("job-skipped", `job ${shown(spec)} not run: ${reason}`, { job: spec.name, ...fields });
  recordSkip(spec, context, reason);
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
  const backoff = checkBackoffFile(spec.backoffFile);
  if (backoff.readError) log.warn("backoff", `cannot read the backoff file (${backoff.readError}): running the job`, { file: spec.backoffFile });
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
const runJob = async (spec: JobSpec, context: JobContext, aborted: AbortSignal, state: RunState): Promise<JobOutcome> => {
  const { log } = context;
  ensureStateDir(spec, context);
  if (isBackedOff(spec, log)) return skip(spec, context, "backoff engaged");
  const runId = newRunId();
  const startedAt = new Date();
  const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), host: spec.hostname, runId, startedAt: isoTime(startedAt.getTime()) };
  const lock = await takeLock(spec, context, me, aborted);
  if (lock !== undefined && "kind" in lock) return lock;
  try {
    if (aborted.aborted) return skip(spec, context, "stopped before it started");
    recordStart(spec, context, runId, startedAt, lock !== undefined);
    const capture = new OutputCapture(spec.captureBytes);
    const startMs = monotonicMs();
    const ran = await runCommandOf(spec, context, runId, capture, state);
    // The run's own length: stopping what it left behind is not part of it.
    const durationMs = (ran.endedMs ?? monotonicMs()) - startMs;
    const times = { runId, startedAt, endedAt: ran.endedAt ?? new Date(), durationMs };
    const verdict = judge(ran, spec);
    let reportFile: string | undefined;
    if (verdict.exitCode !== 0) {
      reportFile = saveFailureReport(spec, context, times, ran, capture, verdict);
    } else {
      log.info("job", `job ${shown(spec)} succeeded`, { job: spec.name, duration: formatDurationMs(Math.round(durationMs)) });
    }
    tidyLogs(spec, context, verdict.exitCode !== 0);
    // Recorded before the hook: a stop that ends the hook early must not lose the result.
    recordEnd(spec, context, times, verdict, reportFile);
    if (verdict.exitCode !== 0 && spec.onFailure) await runFailureHook(spec, context, state, runId, verdict, reportFile);
    return { kind: "finished", exitCode: verdict.exitCode, result: verdict.result, ...(reportFile && { reportFile }) };
  } finally {
    try {
      lock?.release();
    } catch (error) {
      log.warn("job", `cannot release the job's lock: ${errnoCode(error) ?? (error as Error).message}`, { job: spec.name });
    }
  }
};

// What a run writes in its record (status.json's jobs, job-status.ts): its
// start, its end, a skip; and an earlier run that died while "running".
import type { Logger } from "../log/logger.ts";
import { shown } from "./job-process.ts";
import { killedRecord, updateJobRecord, type JobRecord, type RecordOptions } from "./job-status.ts";
import { currentRunner } from "./record-upkeep.ts";
import type { JobContext, JobSpec } from "./types.ts";
import type { Verdict } from "./verdict.ts";
import { isoTime } from "../time/iso-time.ts";

/** Records of jobs not run for as long as reports are kept are removed from status.json. */
const recordOptions = (spec: JobSpec): RecordOptions => ({ keepRecordsForMs: spec.retention.maxAgeMs });

/** The earlier run, still "running" in its record although its lock was free: its harness died before recording the end. */
const earlierRunKilled = (spec: JobSpec, log: Logger, previous: JobRecord): JobRecord => {
  log.warn("job", `job ${shown(spec)}: the earlier run (started ${previous.lastStart ?? "?"}) ended without recording its end (its boxinit was killed): recorded as killed`, {
    job: spec.name, ...(previous.runner && { pid: previous.runner.pid, run: previous.runner.runId }),
  });
  return killedRecord(previous);
};

/** A skipped run: when and why, beside the last run's record. */
export const recordSkip = (spec: JobSpec, context: JobContext, reason: string): void => {
  updateJobRecord(spec.stateDir, spec.name, context.native, context.log, (previous) => ({
    ...previous, lastSkip: { at: isoTime(), reason },
  }), recordOptions(spec));
};

/** The run has started (isLocked: it holds the job's lock, so a record still "running" is a run that is gone). */
export const recordStart = (spec: JobSpec, context: JobContext, runId: string, startedAt: Date, isLocked: boolean): void => {
  const runner = currentRunner(runId, spec.hostname);
  updateJobRecord(spec.stateDir, spec.name, context.native, context.log, (previous) => ({
    // Holding the lock, a record that still says "running" is a run that is gone.
    ...(previous.running && isLocked ? earlierRunKilled(spec, context.log, previous) : previous),
    running: true, runner, lastStart: isoTime(startedAt.getTime()),
  }), recordOptions(spec));
};

/** The run has ended: how, how long, its report; the counts of runs and failures. */
export const recordEnd = (spec: JobSpec, context: JobContext, times: { startedAt: Date; endedAt: Date; durationMs: number }, verdict: Verdict, reportFile: string | undefined): void => {
  updateJobRecord(spec.stateDir, spec.name, context.native, context.log, (previous): JobRecord => ({
    ...previous,
    running: false,
    runner: null,
    lastStart: isoTime(times.startedAt.getTime()),
    lastEnd: isoTime(times.endedAt.getTime()),
    lastExit: verdict.exitCode,
    lastSignal: verdict.signal,
    lastResult: verdict.result,
    lastDurationMs: Math.round(times.durationMs),
    logFile: reportFile ?? null,
    runs: previous.runs + 1,
    failures: previous.failures + (verdict.exitCode === 0 ? 0 : 1),
  }), recordOptions(spec));
};

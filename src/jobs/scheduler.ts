// Scheduled jobs inside a running box (`jobs:` with `schedule:`): croner fires,
// the scheduler decides whether the run may happen (the box is `running`, no
// earlier run of the job still going) and hands it to the same harness as
// `boxinit job` (which also checks backoff and the job's lock). At shutdown,
// running jobs are stopped first, within the same budget as everything else.
import { join } from "node:path";
import { BACKOFF_FILE } from "../control/backoff.ts";
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { JobConfig, JobLogsConfig } from "../config/types.ts";
import type { CronFactory } from "../config/jobs.ts";
import { SIGNAL_NUMBERS } from "../pid1/signals.ts";
import { monotonicMs, settleBefore } from "../time/clock.ts";
import { updateJobRecord, type RecordOptions } from "./job-status.ts";
import { prefixedPassthrough, rawPassthrough } from "./passthrough.ts";
import { startJob, type JobRun } from "./run-job.ts";
import type { JobContext, JobSpec } from "./types.ts";
import { isoTime } from "../time/iso-time.ts";

const isoOf = (date: Date | null): string | null => (date === null ? null : isoTime(date.getTime()));

export interface SchedulerOptions {
  jobs: readonly JobConfig[];
  stateDir: string;
  /** Default STATE_DIR/backoff; config.backoffFile. */
  backoffFile?: string;
  graceMs: number;
  retention: JobLogsConfig;
  hostname: string;
  /** Prefix job output with `NAME | ` (the box has other output to tell it from). */
  shouldPrefixOutput: boolean;
  /** Why a run may not start now (the box is not `running`), or undefined when it may. */
  whyNotNow: () => string | undefined;
}

export interface SchedulerContext {
  native: Native | undefined;
  reaper: Reaper;
  log: Logger;
  /** Starts a run (default run-job.ts's startJob); a seam for tests, which pass a fake. */
  startJob?: (spec: JobSpec, context: JobContext) => JobRun;
}

interface CronHandle {
  nextRun(): Date | null;
  stop(): void;
}

// At most this much of the jobs' stop budget is kept for writing their results.
const RECORD_MARGIN_MAX_MS = 1000;

type CronWithCallback = new (pattern: string, options: { timezone?: string }, run: () => void) => CronHandle;


export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #context: SchedulerContext;
  readonly #crons = new Map<string, CronHandle>();
  readonly #running = new Map<string, JobRun>();
  #isStopped = false;

  constructor(options: SchedulerOptions, context: SchedulerContext) {
    this.#options = options;
    this.#context = context;
  }

  /** Whether any job has a schedule (else croner is never loaded). */
  static hasScheduledJobs(jobs: readonly JobConfig[]): boolean {
    return jobs.some((job) => job.schedule !== undefined);
  }

  /** Start the timers; each job's next time goes to status.json. */
  start(Cron: CronFactory): void {
    // croner is loaded asynchronously: a stop may have come first.
    if (this.#isStopped) return;
    const CronClass = Cron as unknown as CronWithCallback;
    for (const job of this.#options.jobs) {
      if (job.schedule === undefined) continue;
      // Referenced timers: a box of scheduled jobs alone has nothing else to keep it alive.
      const cron = new CronClass(job.schedule, { ...(job.timezone !== undefined && { timezone: job.timezone }) }, () => this.#fire(job));
      this.#crons.set(job.name, cron);
      this.#recordNext(job);
      this.#context.log.info("job-schedule", `job ${job.name} scheduled`, { job: job.name, schedule: job.schedule, next: isoOf(cron.nextRun()) ?? undefined });
    }
  }

  /** Stop the timers and every running job: its signal now, SIGKILL at `until` (a monotonicMs deadline). */
  async stop(until: number): Promise<void> {
    this.#isStopped = true;
    for (const [name, cron] of this.#crons) {
      cron.stop();
      // A stopped box runs nothing more: no "next run" for host tools to wait for.
      updateJobRecord(this.#options.stateDir, name, this.#context.native, this.#context.log, (previous) => ({ ...previous, nextRun: null }), this.#recordOptions);
    }
    const runs = [...this.#running.entries()];
    if (runs.length === 0) return;
    const { log } = this.#context;
    // SIGKILL comes a little before `until`: a killed job's report and record
    // are written after its end, and must be on disk before the box moves on.
    const leftMs = Math.max(0, until - monotonicMs());
    const killAfterMs = leftMs - Math.min(RECORD_MARGIN_MAX_MS, leftMs / 4);
    for (const [name, run] of runs) {
      log.info("shutdown", `stopping job ${name}`, { job: name });
      run.stop(SIGNAL_NUMBERS.SIGTERM!, killAfterMs);
    }
    await settleBefore(Promise.all(runs.map(([, run]) => run.outcome)), until);
  }

  // Records of jobs not run for as long as reports are kept are removed from status.json.
  get #recordOptions(): RecordOptions {
    return { keepRecordsForMs: this.#options.retention.maxAgeMs };
  }

  #recordNext(job: JobConfig): void {
    const next = this.#crons.get(job.name)?.nextRun() ?? null;
    updateJobRecord(this.#options.stateDir, job.name, this.#context.native, this.#context.log, (previous) => ({
      ...previous, schedule: job.schedule!, nextRun: isoOf(next),
    }), this.#recordOptions);
  }

  #skip(job: JobConfig, reason: string): void {
    this.#context.log.info("job-skipped", `job ${job.name} not run: ${reason}`, { job: job.name });
    updateJobRecord(this.#options.stateDir, job.name, this.#context.native, this.#context.log, (previous) => ({
      ...previous, lastSkip: { at: isoTime(), reason },
    }), this.#recordOptions);
  }

  #fire(job: JobConfig): void {
    if (this.#isStopped) return;
    const whyNot = this.#running.has(job.name) ? "the previous run is still running" : this.#options.whyNotNow();
    if (whyNot !== undefined) {
      this.#skip(job, whyNot);
      this.#recordNext(job);
      return;
    }
    const options = this.#options;
    const run = (this.#context.startJob ?? startJob)({
      name: job.name,
      command: job.command,
      env: job.env,
      ...(job.cwd !== undefined && { cwd: job.cwd }),
      ...(job.user !== undefined && { user: job.user }),
      ...(job.timeoutMs !== undefined && { timeoutMs: job.timeoutMs }),
      ...(job.onFailure !== undefined && { onFailure: job.onFailure }),
      killGraceMs: options.graceMs,
      hookTimeoutMs: job.onFailureTimeoutMs,
      captureBytes: job.captureBytes,
      retention: options.retention,
      stateDir: options.stateDir,
      backoffFile: options.backoffFile ?? join(options.stateDir, BACKOFF_FILE),
      hostname: options.hostname,
      waitMs: 0,
      passthrough: options.shouldPrefixOutput ? prefixedPassthrough(`${job.name} | `) : rawPassthrough(),
    }, this.#context);
    this.#running.set(job.name, run);
    // The time this run was fired for is past now: a run that lasts an hour
    // must not show it as "next" all that while.
    this.#recordNext(job);
    void run.outcome.then(
      () => undefined,
      (error: unknown) => this.#context.log.error("internal-error", `job ${job.name}: ${(error as Error).stack ?? String(error)}`),
    ).finally(() => {
      this.#running.delete(job.name);
      if (!this.#isStopped) this.#recordNext(job);
    });
  }
}

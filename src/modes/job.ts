// `boxinit job NAME [OPTIONS] [-- CMD]`: one run of a batch job through the
// harness (jobs/run-job.ts), usable as a container's command (boxinit is then
// PID 1: it reaps, forwards signals, and a `docker stop` stops the job within
// the grace period) and inside a running container. Set up (runtime, signal
// router), start the job, wait for it, stop what it left (shutdown/stop-all.ts);
// exits with the job's code.
import { hostname } from "node:os";
import { createLogger, writeLine, type Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { SIGNAL_NUMBERS, signalLabel } from "../pid1/signals.ts";
import { leftoverReserveMs, stopAll } from "../shutdown/stop-all.ts";
import { monotonicMs } from "../time/clock.ts";
import { formatDurationMs } from "../config/duration.ts";
import type { Config, JobConfig } from "../config/types.ts";
import { JOB_DEFAULTS } from "../config/defaults.ts";
import { startJob, type JobRun } from "../jobs/run-job.ts";
import type { JobSpec } from "../jobs/types.ts";
import { rawPassthrough } from "../jobs/passthrough.ts";
import { terminationSummary, writeTerminationLog } from "../jobs/termination-log.ts";
import { escapeControls } from "../control/backoff.ts";
import { JOB_USAGE, parseJobArgs, type JobArgs } from "../cli/job-args.ts";
import { loadConfigOrReport } from "./config.ts";
import { onFault, routeSignals, startRuntime, type FaultHandle } from "./runtime.ts";

/** The harness's spec from the command line over the config's jobs.NAME; a usage error when there is no command. */
export const jobSpecFor = (args: JobArgs, config: Config, host: string): JobSpec | string => {
  const configured: JobConfig | undefined = config.jobs.find((job) => job.name === args.name);
  const command = args.command.length > 0 ? args.command : configured?.command;
  if (!command || command.length === 0) {
    return `no command for job ${JSON.stringify(args.name)}: give one after -- (boxinit job NAME -- CMD ARGS), or configure jobs.${args.name} in ${config.source ?? "the config"}`;
  }
  const timeoutMs = args.timeoutMs ?? configured?.timeoutMs;
  const onFailure = args.onFailure ?? configured?.onFailure;
  // The config's user, cwd and env belong to its command: a command given here runs as boxinit does.
  const own = args.command.length === 0 ? configured : undefined;
  return {
    name: args.name,
    command,
    env: own?.env ?? {},
    ...(own?.cwd !== undefined && { cwd: own.cwd }),
    ...(own?.user !== undefined && { user: own.user }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(onFailure !== undefined && { onFailure }),
    killGraceMs: config.graceMs,
    hookTimeoutMs: configured?.onFailureTimeoutMs ?? JOB_DEFAULTS.onFailureTimeoutMs,
    captureBytes: configured?.captureBytes ?? JOB_DEFAULTS.captureBytes,
    retention: { keep: config.jobLogs.keep, maxAgeMs: config.jobLogs.maxAgeMs },
    stateDir: config.stateDir,
    backoffFile: config.backoffFile,
    hostname: host,
    waitMs: args.waitMs,
    passthrough: rawPassthrough(),
  };
};

/**
 * Not PID 1 (docker exec, a host's cron, a shell): the job's command and its
 * hook get SIGKILL when this harness dies, so a SIGKILLed `boxinit job` cannot
 * leave its command running while the next run takes the lock. (As PID 1 the
 * kernel kills the whole namespace anyway.) Processes the command started
 * itself are not covered: only its direct child gets a parent-death signal.
 */
const dieWithHarness = (native: Native | undefined, log: Logger): void => {
  if (process.pid === 1 || !native) return;
  try {
    native.setChildDeathSignal(SIGNAL_NUMBERS.SIGKILL!);
  } catch (error) {
    log.warn("job", `the job's command will not die with boxinit: ${(error as Error).message}`);
  }
};

/** Run `boxinit job`; resolves to the exit code. */
export const jobMode = async (argv: readonly string[], faults: FaultHandle): Promise<number> => {
  const parsed = parseJobArgs(argv, process.env);
  if (!parsed.ok) {
    for (const error of parsed.errors) writeLine(2, `boxinit job: usage: ${error}\n`);
    return EXIT.usage;
  }
  const { args } = parsed;
  if (args.showHelp) {
    writeLine(1, JOB_USAGE);
    return 0;
  }
  const config = await loadConfigOrReport({
    resolveUsersOf: "jobs",
    ...(args.configPath !== undefined && { configPath: args.configPath }),
    ...(args.stateDir !== undefined && { stateDir: args.stateDir }),
    ...(args.graceMs !== undefined && { graceMs: args.graceMs, isGraceExplicit: true }),
  });
  if (!config) return EXIT.usage;
  const spec = jobSpecFor(args, config, hostname());
  if (typeof spec === "string") {
    writeLine(2, `boxinit job: usage: ${spec}\n`);
    return EXIT.usage;
  }
  const log = await createLogger(args.logFormat, args.verbosity);
  return runJob(spec, config, log, faults);
};

/**
 * The job as a PID 1 run. docker stop (TERM), Ctrl-C (INT), QUIT: the job
 * gets the signal and the grace period, then SIGKILL. Other signals (HUP,
 * USR1, ...) are passed on to it. The router is in place before the job
 * starts: an early TERM must not kill boxinit by Node's default action and
 * orphan the job.
 */
const runJob = async (spec: JobSpec, config: Config, log: Logger, faults: FaultHandle): Promise<number> => {
  const pid1 = startRuntime(log);
  const { native, reaper, scope } = pid1;
  dieWithHarness(native, log);
  let run: JobRun | undefined;
  let stopDeadline: number | undefined;
  // The job's SIGKILL comes a little before the deadline: its report and
  // record are written after its end, and must be on disk before Docker's
  // own SIGKILL (grace 9 s of Docker's 10 s by default).
  const jobGraceMs = config.graceMs - leftoverReserveMs(config.graceMs);
  const stop = (signal: number): void => {
    if (stopDeadline !== undefined) return;
    stopDeadline = monotonicMs() + config.graceMs;
    run?.stop(signal, jobGraceMs);
  };
  routeSignals(pid1, log, {
    rewrites: new Map(),
    stop: (signal, intake) => {
      for (let i = 0; i < intake.received; i++) {
        if (stopDeadline === undefined) log.info("shutdown", `received ${signalLabel(signal)}: stopping job ${escapeControls(spec.name)}`, { grace: formatDurationMs(config.graceMs) });
        stop(signal);
      }
      return intake.received;
    },
    forward: (signal, times) => {
      for (let i = 0; i < times; i++) run?.forward(signal);
    },
  });
  onFault(faults, config.graceMs, () => stop(SIGNAL_NUMBERS.SIGTERM!));

  run = startJob(spec, { native, reaper, log });
  if (stopDeadline !== undefined) run.stop(SIGNAL_NUMBERS.SIGTERM!, jobGraceMs);
  const outcome = await run.outcome;
  // Before the leftovers' stop: a SIGKILL during it must not lose the message.
  writeTerminationLog(terminationSummary(spec.name, outcome, spec.stateDir), log);
  // What the job left behind (daemons, children of a killed shell) is stopped
  // too: a batch job must not leave processes in the container. A stop that
  // was asked for keeps to its one budget.
  if (reaper.hasChildren()) {
    const deadline = stopDeadline ?? monotonicMs() + config.graceMs;
    await stopAll({ log, reaper, scope }, { deadline, reserveMs: leftoverReserveMs(Math.max(0, deadline - monotonicMs())) });
  }
  return outcome.exitCode;
};

// Mini-VM mode: boxinit runs the configured container. Set up (runtime, the
// box and its status file), the backoff check (engaged: start nothing), the
// boot (init scripts, links, services in `after:` order with their warm-ups:
// supervisor/boot.ts), then the optional main command. The first stop reason
// (signal, backoff, critical service end, main command end, boot failure,
// fault) spends the one budget (shutdown/stop-box.ts) and decides the final
// state and exit code (supervisor/box-states.ts). With backoff.on_engage idle
// a backoff stop is not the end: PID 1 idles and boots again on release
// (mini-vm-backoff.ts), each boot-to-stop a run of its own (mini-vm-run.ts).
import { hostname } from "node:os";
import type { InitArgs } from "../cli/args.ts";
import { createLogger, writeLine, type Logger } from "../log/logger.ts";
import { EXIT, exitCodeFor, remapExitCode, type RemapTable } from "../pid1/exit-code.ts";
import { SIGNAL_NUMBERS, signalLabel, type RewriteTable } from "../pid1/signals.ts";
import { signalEverythingLeft, signalGroup } from "../pid1/send-signal.ts";
import { takeTerminalBack } from "../pid1/terminal.ts";
import { monotonicMs } from "../time/clock.ts";
import { loadLibrary } from "../lazy/loader.ts";
import type { Config } from "../config/types.ts";
import type { CronFactory } from "../config/jobs.ts";
import { DEFAULT_CONFIG_PATH } from "../config/defaults.ts";
import { liveOwnerOf } from "../control/state-dir-owner.ts";
import { drainServiceOutput } from "../log/service-output.ts";
import { Box } from "../supervisor/box.ts";
import { bootServices } from "../supervisor/boot.ts";
import { finalOutcome, type StopReason, type StopResults } from "../supervisor/box-states.ts";
import { startMainCommand } from "../supervisor/main-command.ts";
import { listScripts, runScripts } from "../supervisor/scripts.ts";
import { Service } from "../supervisor/service.ts";
import { isFinalServiceState } from "../supervisor/service-states.ts";
import { Scheduler } from "../jobs/scheduler.ts";
import { boxReserveMs, stopBox, type FinishScripts } from "../shutdown/stop-box.ts";
import { loadConfigOrReport } from "./config.ts";
import { endBackedOffAtStart, endIdle, idleInBackoff } from "./mini-vm-backoff.ts";
import { startBoxProbes } from "./box-probes.ts";
import { newRun, type MiniVmRun, type MiniVmSession } from "./mini-vm-run.ts";
import { onFault, routeSignals, startRuntime, type FaultHandle, type Pid1, type SignalRoutes } from "./runtime.ts";

// How long the last lines of services may take to reach stdout after the stop.
const OUTPUT_DRAIN_MS = 500;

export interface MiniVmOptions {
  config: Config;
  /** `-- CMD ARGS`: run once services are up; its end ends the container. */
  command: readonly string[];
  rewrites: RewriteTable;
  remaps: RemapTable;
  preserveFds: number;
  /** --parent-death-signal: the signal that comes when boxinit's parent dies. */
  parentDeathSignal?: number;
}

// A stop signal starts the stop; the others go to the main command's group
// when there is one, else to every service.
const miniVmRoutes = (session: MiniVmSession, box: Box, options: MiniVmOptions, log: Logger): SignalRoutes => ({
  rewrites: options.rewrites,
  stop: (sent, intake) => {
    session.run.requestStop({ kind: "signal", signal: sent });
    return intake.received;
  },
  forward: (sent, times, intake) => {
    const { run } = session;
    for (let i = 0; i < times; i++) {
      if (run.main && run.isMainRunning) signalGroup(run.main.pgid, sent);
      else for (const service of box.services) service.forwardSignal(sent);
      if (log.isEnabled("debug")) log.debug("signal-forwarded", "forwarded", { signal: signalLabel(intake.signal), as: signalLabel(sent) });
    }
  },
});

// The services, each told how its changes move the box and when its end stops it.
const makeServices = (box: Box, run: MiniVmRun, options: MiniVmOptions, pid1: Pid1, log: Logger): void => {
  const { config } = options;
  const context = {
    native: pid1.native,
    reaper: pid1.reaper,
    log,
    shouldPrefixOutput: config.services.length + (options.command.length > 0 ? 1 : 0) > 1,
    logFiles: config.logFiles && { ...config.logFiles, stateDir: config.stateDir },
    isStopping: () => run.stopReason !== undefined,
    onChange: () => box.onServiceChange(),
    onEndedForGood: (service: Service, ending: { code: number | null; signal: number | null }) => {
      if (run.stopReason) return;
      if (service.config.critical) return run.requestStop({ kind: "critical", service: service.name, ending });
      // Nothing left to run (no main command, every service over): a container
      // that runs nothing would only look alive; it ends with the last one's code.
      if (options.command.length === 0 && box.services.every((other) => isFinalServiceState(other.state))) {
        log.warn("service-exited", `service ${service.name} was the last one running: stopping`, { service: service.name });
        return run.requestStop({ kind: "critical", service: service.name, ending });
      }
      log.warn("service-exited", `service ${service.name} is not critical: the container keeps running without it`, { service: service.name });
    },
    isBooting: () => box.state === "starting" || box.state === "warming",
    graceMs: config.graceMs,
    onWarmupFailed: (service: Service, problem: string) =>
      run.requestStop({ kind: "boot-failed", code: EXIT.unavailable, why: `service ${service.name}: ${problem}` }),
  };
  for (const serviceConfig of config.services) box.services.push(new Service(serviceConfig, context));
};

const makeScheduler = (box: Box, run: MiniVmRun, options: MiniVmOptions, pid1: Pid1, log: Logger): Scheduler | undefined => {
  const { config } = options;
  if (!Scheduler.hasScheduledJobs(config.jobs)) return undefined;
  return new Scheduler({
    jobs: config.jobs,
    stateDir: config.stateDir,
    backoffFile: config.backoffFile,
    graceMs: config.graceMs,
    retention: config.jobLogs,
    hostname: hostname(),
    shouldPrefixOutput: config.services.length + (options.command.length > 0 ? 1 : 0) > 0,
    // Not while degraded either: the jobs of an app image are the app's batch work
    // (a reindex needs the app); a run due then is skipped, logged and kept in lastSkip.
    whyNotNow: () => (box.state === "running" && !run.stopReason ? undefined : `the box is ${run.stopReason ? "stopping" : box.state}`),
  }, { native: pid1.native, reaper: pid1.reaper, log });
};

// The main command, once the services are up; its end ends the box.
const startMain = (run: MiniVmRun, options: MiniVmOptions, pid1: Pid1, log: Logger): void => {
  const started = startMainCommand(options.command, options.preserveFds, pid1.native, pid1.reaper, log);
  if (!("pid" in started)) return run.requestStop({ kind: "boot-failed", code: started.exitCode, why: "the main command could not be started" });
  run.main = started;
  run.isMainRunning = true;
  void started.ended.then((ending) => {
    run.isMainRunning = false;
    if (started.ownsTerminal && pid1.native) takeTerminalBack(pid1.native, started.pgid, log);
    log.info("child-exited", "the main command ended", { pid: started.pid, code: exitCodeFor(ending) });
    run.requestStop({ kind: "main-ended", ending });
  });
};

// The boot, then `running`: the scheduler starts and the main command runs.
const boot = async (box: Box, scheduler: Scheduler | undefined, run: MiniVmRun, options: MiniVmOptions, pid1: Pid1, log: Logger): Promise<void> => {
  const { services } = box;
  const booted = await bootServices(options.config, services, {
    native: pid1.native, reaper: pid1.reaper, log, isStopping: () => run.stopReason !== undefined, stopped: run.stopRequested,
  }, run.initScript);
  if (booted.kind === "failed") return run.requestStop({ kind: "boot-failed", code: booted.code, why: booted.why });
  if (booted.kind === "stopped") return;
  const { readiness } = booted;
  box.move("running");
  // A critical service may have died between its warm-up and this turn: no later change would say so until its restart.
  box.settleBooted();
  if (scheduler) scheduler.start((await loadLibrary("croner")).Cron as unknown as CronFactory);
  const upServices = services.filter((_, index) => readiness[index]);
  if (upServices.length === services.length) log.info("state", "every service is up", { services: upServices.map((service) => service.name) });
  else log.warn("state", "running without the non-critical services that did not come up", { up: upServices.map((service) => service.name), down: services.filter((_, index) => !readiness[index]).map((service) => service.name) });
  if (options.command.length > 0) startMain(run, options, pid1, log);
};

// How a run ended: the reason that won and what the stop produced.
interface RunEnd {
  reason: StopReason;
  results: StopResults;
}

// The one budget, spent on what the run started.
const stopRun = async (box: Box, scheduler: Scheduler | undefined, run: MiniVmRun, options: MiniVmOptions, pid1: Pid1, log: Logger): Promise<RunEnd> => {
  const { config } = options;
  const { native, reaper, scope } = pid1;
  const reason = await run.stopRequested;
  for (const service of box.services) service.cancelRestart();
  const deadline = monotonicMs() + config.graceMs;
  box.move("stopping");
  const finishScripts: FinishScripts = (onStarted, isOverTime) => {
    const scripts = listScripts(config.finishDir, log);
    return scripts.length === 0 ? undefined : runScripts(scripts, { native, reaper, log, kind: "finish", shouldContinueAfterFailure: true }, onStarted, isOverTime);
  };
  const { main, initScript } = run;
  let results: StopResults;
  try {
    results = await stopBox({
      main: main && run.isMainRunning ? { pgid: main.pgid, ended: main.ended, signal: reason.kind === "signal" ? reason.signal : SIGNAL_NUMBERS.SIGTERM! } : undefined,
      initScript: initScript.current ? { pgid: initScript.current.pid, ended: initScript.current.ended, signal: SIGNAL_NUMBERS.SIGTERM! } : undefined,
      ...(scheduler && { jobs: scheduler }),
      services: box.services,
      finishScripts,
      deadline,
      reserveMs: boxReserveMs(config.graceMs),
    }, { log, reaper, scope });
  } catch (error) {
    log.error("internal-error", `stopping failed: ${(error as Error).message}; sending SIGKILL to everything left`);
    signalEverythingLeft(scope, SIGNAL_NUMBERS.SIGKILL!);
    results = { stopCodes: [], hasKilled: true };
    run.stopReason = { kind: "fault" };
  }
  // Everything is stopped, so every pipe is at end of file or about to be;
  // the bound only covers a writer that survived SIGKILL.
  await drainServiceOutput(OUTPUT_DRAIN_MS);
  return { reason: run.stopReason ?? reason, results };
};

// The final state and exit code.
const exitAfter = async (box: Box, end: RunEnd, options: MiniVmOptions, pid1: Pid1, log: Logger): Promise<number> => {
  const outcome = finalOutcome(end.reason, end.results);
  box.exitCode = remapExitCode(outcome.code, options.remaps);
  box.move(outcome.state);
  await box.close();
  log.info("exit", "boxinit exiting", { state: outcome.state, code: box.exitCode, reaped: pid1.reaper.reapedCount });
  return box.exitCode;
};

// One boot-to-stop of the box with the session's current run: services made
// afresh, the boot, then the wait for a reason to stop and the stop.
const bootAndStop = async (box: Box, session: MiniVmSession, options: MiniVmOptions, pid1: Pid1, log: Logger): Promise<RunEnd> => {
  const { config } = options;
  const { run } = session;
  makeServices(box, run, options, pid1, log);
  const scheduler = makeScheduler(box, run, options, pid1, log);
  box.publish();
  log.info("state", "state starting", { config: config.source ?? "(none)", stateDir: config.stateDir, services: box.services.length });
  void boot(box, scheduler, run, options, pid1, log).catch((error: unknown) => {
    log.error("internal-error", `boot failed: ${(error as Error).stack ?? String(error)}`);
    run.requestStop({ kind: "fault" });
  });
  return stopRun(box, scheduler, run, options, pid1, log);
};

/** Run the configured container; resolves to the exit code for process.exit. */
export const runMiniVm = async (options: MiniVmOptions, log: Logger, faults: FaultHandle = {}): Promise<number> => {
  const { config } = options;
  const pid1 = startRuntime(log);
  const session: MiniVmSession = { run: newRun(log, config.graceMs) };
  const box = new Box(config, pid1.native, log, () => session.run.stopReason !== undefined);
  routeSignals(pid1, log, miniVmRoutes(session, box, options, log), options.parentDeathSignal);
  onFault(faults, config.graceMs, () => session.run.requestStop({ kind: "fault" }));

  // The first write (at once: `starting` is on disk before anything runs)
  // creates a missing state directory, so the watcher can start on it at
  // once instead of polling for it to appear.
  box.publishNow();
  const probes = await startBoxProbes(config.probePort, box, log);
  if (probes === "failed") return failBeforeStart(box, options.remaps, log);
  try {
    return await superviseBox(box, session, options, pid1, log);
  } finally {
    await probes?.close();
  }
};

// The port could not be opened: nothing has started; the box is failed, exit 69 (EX_UNAVAILABLE).
const failBeforeStart = async (box: Box, remaps: RemapTable, log: Logger): Promise<number> => {
  box.exitCode = remapExitCode(EXIT.unavailable, remaps);
  box.move("stopping");
  box.move("failed");
  await box.close();
  log.info("exit", "boxinit exiting", { state: box.state, code: box.exitCode });
  return box.exitCode;
};

// The backoff watch, then boot-to-stop runs until one ends the container
// (with backoff.on_engage idle, a backoff stop is followed by an idle spell).
const superviseBox = async (box: Box, session: MiniVmSession, options: MiniVmOptions, pid1: Pid1, log: Logger): Promise<number> => {
  const { config } = options;
  await box.backoff.start((isEngaged) => {
    box.publish();
    if (!isEngaged) session.onReleased?.();
    else if (!session.isIdle) session.run.requestStop({ kind: "backoff" });
  });
  const isIdleOnBackoff = config.backoffOnEngage === "idle";
  if (box.backoff.isEngaged() && !session.run.stopReason && !isIdleOnBackoff) return endBackedOffAtStart(box, config.backoffFile, options.remaps, log);

  box.startHeartbeat();
  // After a backoff stop the box idles even when the file was released during the stop: `backedoff` is written, then it boots.
  let isAfterBackoffStop = false;
  for (;;) {
    if (isIdleOnBackoff && (isAfterBackoffStop || box.backoff.isEngaged())) {
      const stopped = await idleInBackoff(box, session, config.backoffFile, config.graceMs, log);
      if (stopped) return endIdle(box, stopped, options.remaps, log);
    }
    const end = await bootAndStop(box, session, options, pid1, log);
    if (!isIdleOnBackoff || end.reason.kind !== "backoff") return exitAfter(box, end, options, pid1, log);
    // What would have been the exit code (a failing stop command's) is only logged: nothing exits.
    log.info("backoff", "services stopped for backoff: staying up (backoff.on_engage idle)", { code: finalOutcome(end.reason, end.results).code });
    session.run = newRun(log, config.graceMs);
    isAfterBackoffStop = true;
  }
};

/** `boxinit [OPTIONS] [-- CMD]` in Mini-VM mode: load and validate the config (every problem at once, exit 2 before anything starts), then run it. */
export const miniVmMode = async (args: InitArgs, faults: FaultHandle, why: string): Promise<number> => {
  const config = await loadConfigOrReport(args);
  if (!config) return EXIT.usage;
  const hasSchedules = config.jobs.some((job) => job.schedule !== undefined);
  if (config.services.length === 0 && args.command.length === 0 && !hasSchedules) {
    writeLine(2, `boxinit: usage: nothing to run: no services or scheduled jobs in ${config.source ?? `${DEFAULT_CONFIG_PATH} (not found)`} and no command (boxinit [OPTIONS] -- CMD [ARGS...], see boxinit --help)\n`);
    return EXIT.usage;
  }
  const owner = liveOwnerOf(config.stateDir);
  if (owner) {
    writeLine(2, `boxinit: usage: state directory ${config.stateDir} is in use by a running boxinit (pid ${owner.pid}, state ${owner.state}): nothing was started; look at it with "boxinit status --state-dir ${config.stateDir}", or give this run its own --state-dir\n`);
    return EXIT.usage;
  }
  const log = await createLogger(args.logFormat, args.verbosity);
  // A tini-style user whose image happens to ship /etc/boxinit must be able to see why.
  log.log(args.command.length > 0 ? "info" : "debug", "config", `Mini-VM mode: ${why}`);
  return runMiniVm({ config, command: args.command, rewrites: args.rewrites, remaps: args.remaps, preserveFds: args.preserveFds, parentDeathSignal: args.parentDeathSignal }, log, faults);
};

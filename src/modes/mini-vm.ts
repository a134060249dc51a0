// Mini-VM mode: boxinit runs the configured container. Boot order: PID 1
// duties, status file, backoff check (engaged: start nothing), init scripts,
// links, services in `after:` order with their warm-ups, then the optional
// main command. The first stop reason (signal, backoff, critical service end,
// main command end, boot failure, fault) spends the one budget and decides
// the final state and exit code.
import type { Fields, Logger } from "../log/logger.ts";
import type { Config } from "../config/types.ts";
import { EXIT, exitCodeFor, remapExitCode, type Ending, type RemapTable } from "../pid1/exit-code.ts";
import { bootPid1 } from "../pid1/boot.ts";
import { armParentDeathSignal, eachSignal, listenForSignals } from "../pid1/signal-intake.ts";
import { SIGNAL_NAMES, SIGNAL_NUMBERS, SIGNAL_ROUTES, rewriteSignal, signalLabel, type RewriteTable } from "../pid1/signals.ts";
import { signalEverythingLeft, signalGroup } from "../pid1/send-signal.ts";
import { takeTerminalBack } from "../pid1/terminal.ts";
import type { FaultHandle } from "../pid1/run-command.ts";
import { COMING_BACK_STATES, StatusFile } from "../control/status-file.ts";
import { BackoffWatch } from "../control/backoff-watch.ts";
import { formatDurationMs } from "../config/duration.ts";
import { drainServiceOutput } from "../log/service-output.ts";
import { monotonicMs } from "../shutdown/clock.ts";
import { boxReserveMs, stopBox } from "../shutdown/stop-box.ts";
import { VERSION } from "../version.ts";
import { bootedBoxState, canMoveBox, finalOutcome, type BoxState, type StopReason, type StopResults } from "./box-states.ts";
import { startMainCommand, type MainCommand } from "./main-command.ts";
import { makeLinks } from "./links.ts";
import { listScripts, runScripts } from "./scripts.ts";
import { Service } from "./service.ts";
import { isFinalServiceState } from "./service-states.ts";
import { hostname } from "node:os";
import { Scheduler } from "../jobs/scheduler.ts";
import type { CronFactory } from "../config/jobs.ts";
import { loadLibrary } from "../lazy/libraries.ts";

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

const describeReason = (reason: StopReason): string => {
  switch (reason.kind) {
    case "signal": return `received ${signalLabel(reason.signal)}`;
    case "backoff": return "backoff engaged";
    case "critical": return `critical service ${reason.service} ended`;
    case "main-ended": return "the main command ended";
    case "boot-failed": return `boot failed: ${reason.why}`;
    case "fault": return "internal fault";
  }
};

/** Run the configured container; resolves to the exit code for process.exit. */
export const runMiniVm = async (options: MiniVmOptions, log: Logger, faults: FaultHandle = {}): Promise<number> => {
  const { config } = options;
  const { native, reaper, scope } = bootPid1(log);

  let stopReason: StopReason | undefined;
  let resolveStop: (reason: StopReason) => void = () => {};
  const stopRequested = new Promise<StopReason>((resolve) => {
    resolveStop = resolve;
  });
  const requestStop = (reason: StopReason): void => {
    if (stopReason) return;
    stopReason = reason;
    log.info("shutdown", `stopping: ${describeReason(reason)}`, { grace: formatDurationMs(config.graceMs) });
    resolveStop(reason);
  };

  // --- the status file ---
  const status = new StatusFile(config.stateDir, log, { heartbeatMs: config.heartbeatMs, native });
  const backoff = new BackoffWatch(config.stateDir, { mode: config.backoffWatch, pollMs: config.backoffPollMs }, log);
  let boxState: BoxState = "starting";
  let since = new Date().toISOString();
  let exitCode: number | undefined;
  const services: Service[] = [];
  // Several changes in one turn of the event loop (a service spawned, its
  // state moved, the box's state moved) become one write of the two files.
  let isPublishScheduled = false;
  const publishNow = (): void => {
    isPublishScheduled = false;
    status.write({
      state: boxState,
      since,
      pid: process.pid,
      version: VERSION,
      backoff: backoff.isEngaged(),
      exitCode,
      heartbeatMs: config.heartbeatMs,
      services: Object.fromEntries(services.map((service) => [service.name, service.snapshot()])),
    });
  };
  const publish = (): void => {
    if (isPublishScheduled) return;
    isPublishScheduled = true;
    // A publishNow meanwhile (the box's own state) wrote this too.
    setImmediate(() => {
      if (isPublishScheduled) publishNow();
    });
  };
  const moveBox = (to: BoxState, fields?: Fields): void => {
    if (!canMoveBox(boxState, to)) {
      log.error("internal-error", "bug: state change not in the table", { from: boxState, to });
      return;
    }
    if (to !== boxState) {
      boxState = to;
      since = new Date().toISOString();
      log.info("state", `state ${to}`, fields);
    }
    // The box's own state is written at once (a host tool, or the main
    // command started right after `running`, must find it on disk); service
    // changes, and `warming`, which comes with one, are coalesced.
    if (to === "warming") publish();
    else publishNow();
  };

  // --- signals ---
  let main: MainCommand | undefined;
  let isMainRunning = false;
  const onSignal = (name: NodeJS.Signals): void => {
    const sent = rewriteSignal(SIGNAL_NUMBERS[name]!, options.rewrites);
    if (sent === 0) return;
    if (SIGNAL_ROUTES[name] === "shutdown") {
      requestStop({ kind: "signal", signal: sent });
      return;
    }
    // Forwarded: to the main command's group when there is one, else to every service.
    if (main && isMainRunning) signalGroup(main.pgid, sent);
    else for (const service of services) service.forwardSignal(sent);
    if (log.isEnabled("debug")) log.debug("signal-forwarded", "forwarded", { signal: name, as: signalLabel(sent) });
  };
  listenForSignals(native, log, eachSignal((signal) => onSignal(SIGNAL_NAMES[signal]!)));
  if (options.parentDeathSignal !== undefined) armParentDeathSignal(native, options.parentDeathSignal, log);
  faults.graceMs = config.graceMs;
  faults.onFault = () => requestStop({ kind: "fault" });

  // --- backoff: engaged at start means nothing starts ---
  // The first write (at once: `starting` is on disk before anything runs)
  // creates a missing state directory, so the watcher can start on it at
  // once instead of polling for it to appear.
  publishNow();
  await backoff.start((isEngaged) => {
    publish();
    if (isEngaged) requestStop({ kind: "backoff" });
  });
  if (backoff.isEngaged() && !stopReason) {
    log.info("backoff", `backoff is engaged (${config.stateDir}/backoff says true): starting nothing`);
    boxState = "backedoff";
    exitCode = remapExitCode(0, options.remaps);
    publishNow();
    status.close();
    await backoff.close();
    log.info("exit", "boxinit exiting", { state: boxState, code: exitCode });
    return exitCode;
  }

  // --- services ---
  // After the boot, running ⇄ degraded follows the critical services; true when the box moved.
  const settleBootedState = (): boolean => {
    if (stopReason) return false;
    const next = bootedBoxState(boxState, services.map((service) => ({ state: service.state, isCritical: service.config.critical })));
    if (next === boxState) return false;
    const down = services.filter((service) => service.config.critical && COMING_BACK_STATES.has(service.state)).map((service) => `${service.name} (${service.state})`);
    moveBox(next, next === "degraded" ? { down } : undefined);
    return true;
  };
  const context = {
    native,
    reaper,
    log,
    shouldPrefixOutput: config.services.length + (options.command.length > 0 ? 1 : 0) > 1,
    isStopping: () => stopReason !== undefined,
    onChange: () => {
      if (boxState === "starting" && services.some((service) => service.state === "warming")) moveBox("warming");
      else if (!settleBootedState()) publish();
    },
    onEndedForGood: (service: Service, ending: { code: number | null; signal: number | null }) => {
      if (stopReason) return;
      if (service.config.critical) return requestStop({ kind: "critical", service: service.name, ending });
      // Nothing left to run (no main command, every service over): a container
      // that runs nothing would only look alive; it ends with the last one's code.
      if (options.command.length === 0 && services.every((other) => isFinalServiceState(other.state))) {
        log.warn("service-exited", `service ${service.name} was the last one running: stopping`, { service: service.name });
        return requestStop({ kind: "critical", service: service.name, ending });
      }
      log.warn("service-exited", `service ${service.name} is not critical: the container keeps running without it`, { service: service.name });
    },
    isBooting: () => boxState === "starting" || boxState === "warming",
    graceMs: config.graceMs,
    onWarmupFailed: (service: Service, problem: string) =>
      requestStop({ kind: "boot-failed", code: EXIT.unavailable, why: `service ${service.name}: ${problem}` }),
  };
  for (const serviceConfig of config.services) services.push(new Service(serviceConfig, context));
  const byName = new Map(services.map((service) => [service.name, service]));
  const scheduler = Scheduler.hasScheduledJobs(config.jobs)
    ? new Scheduler({
      jobs: config.jobs,
      stateDir: config.stateDir,
      graceMs: config.graceMs,
      retention: config.jobLogs,
      hostname: hostname(),
      shouldPrefixOutput: config.services.length + (options.command.length > 0 ? 1 : 0) > 0,
      // Not while degraded either: the jobs of an app image are the app's batch work
      // (a reindex needs the app); a run due then is skipped, logged and kept in lastSkip.
      whyNotNow: () => (boxState === "running" && !stopReason ? undefined : `the box is ${stopReason ? "stopping" : boxState}`),
    }, { native, reaper, log })
    : undefined;
  publish();
  status.startHeartbeat();
  log.info("state", "state starting", { config: config.source ?? "(none)", stateDir: config.stateDir, services: services.length });

  // An init script still running when the stop begins is stopped first.
  let runningInitScript: { pid: number; ended: Promise<Ending> } | undefined;
  const boot = async (): Promise<void> => {
    const initScripts = listScripts(config.initDir, log);
    const failedScript = await runScripts(initScripts, { native, reaper, log, kind: "init" }, (started) => {
      runningInitScript = started;
      void started.ended.then(() => {
        if (runningInitScript === started) runningInitScript = undefined;
      });
    }, () => stopReason !== undefined);
    if (stopReason) return;
    if (failedScript) {
      const code = "ending" in failedScript ? exitCodeFor(failedScript.ending) : failedScript.exitCode;
      return requestStop({ kind: "boot-failed", code, why: `init script ${failedScript.file} failed with exit code ${code}` });
    }
    const linkProblems = makeLinks(config.links, log);
    if (linkProblems.length > 0) {
      for (const problem of linkProblems) log.error("link", problem);
      return requestStop({ kind: "boot-failed", code: EXIT.unavailable, why: linkProblems[0]! });
    }
    const stopped = stopRequested.then(() => undefined);
    for (const service of services) {
      const needs = service.config.after.map((name) => byName.get(name)!);
      const readiness = await Promise.race([Promise.all(needs.map((need) => need.ready)), stopped]);
      if (stopReason || readiness === undefined) return;
      const missing = needs.filter((_, index) => !readiness[index]);
      if (missing.length > 0) {
        const names = missing.map((need) => need.name).join(", ");
        return requestStop({ kind: "boot-failed", code: EXIT.unavailable, why: `service ${service.name} comes after ${names}, which did not come up` });
      }
      service.start();
    }
    const readiness = await Promise.race([Promise.all(services.map((service) => service.ready)), stopped]);
    if (stopReason || readiness === undefined) return;
    moveBox("running");
    // A critical service may have died between its warm-up and this turn: no later change would say so until its restart.
    settleBootedState();
    if (scheduler) scheduler.start((await loadLibrary("croner")).Cron as unknown as CronFactory);
    const upServices = services.filter((_, index) => readiness[index]);
    if (upServices.length === services.length) log.info("state", "every service is up", { services: upServices.map((service) => service.name) });
    else log.warn("state", "running without the non-critical services that did not come up", { up: upServices.map((service) => service.name), down: services.filter((_, index) => !readiness[index]).map((service) => service.name) });
    if (options.command.length === 0) return;
    const started = startMainCommand(options.command, options.preserveFds, native, reaper, log);
    if (!("pid" in started)) return requestStop({ kind: "boot-failed", code: started.exitCode, why: "the main command could not be started" });
    main = started;
    isMainRunning = true;
    void started.ended.then((ending) => {
      isMainRunning = false;
      if (started.ownsTerminal && native) takeTerminalBack(native, started.pgid, log);
      log.info("child-exited", "the main command ended", { pid: started.pid, code: exitCodeFor(ending) });
      requestStop({ kind: "main-ended", ending });
    });
  };
  void boot().catch((error: unknown) => {
    log.error("internal-error", `boot failed: ${(error as Error).stack ?? String(error)}`);
    requestStop({ kind: "fault" });
  });

  // --- the one budget ---
  const reason = await stopRequested;
  for (const service of services) service.cancelRestart();
  const deadline = monotonicMs() + config.graceMs;
  moveBox("stopping");
  let results: StopResults;
  try {
    results = await stopBox(
      {
        main: main && isMainRunning ? { pgid: main.pgid, ended: main.ended, signal: reason.kind === "signal" ? reason.signal : SIGNAL_NUMBERS.SIGTERM! } : undefined,
        initScript: runningInitScript ? { pgid: runningInitScript.pid, ended: runningInitScript.ended, signal: SIGNAL_NUMBERS.SIGTERM! } : undefined,
        ...(scheduler && { jobs: scheduler }),
        services,
        finishDir: config.finishDir,
        deadline,
        reserveMs: boxReserveMs(config.graceMs),
      },
      { log, native, reaper, scope },
    );
  } catch (error) {
    log.error("internal-error", `stopping failed: ${(error as Error).message}; sending SIGKILL to everything left`);
    signalEverythingLeft(scope, SIGNAL_NUMBERS.SIGKILL!);
    results = { stopCodes: [], hasKilled: true };
    stopReason = { kind: "fault" };
  }
  // Everything is stopped, so every pipe is at end of file or about to be;
  // the bound only covers a writer that survived SIGKILL.
  await drainServiceOutput(OUTPUT_DRAIN_MS);
  const outcome = finalOutcome(stopReason ?? reason, results);
  exitCode = remapExitCode(outcome.code, options.remaps);
  moveBox(outcome.state);
  status.close();
  await backoff.close();
  log.info("exit", "boxinit exiting", { state: outcome.state, code: exitCode, reaped: reaper.reapedCount });
  return exitCode;
};

// The tini-style run: one main command under PID 1 duties. Set up (runtime:
// addon, subreaper, reaper, the signal router), spawn, wait for the command's
// end or a stop signal, spend the one budget (shutdown/stop-all.ts), return
// the exit code. With a state directory the run is self-managing
// (tini-box.ts, docs/tini-style.md).
import type { InitArgs } from "../cli/args.ts";
import { createLogger, writeLine, type Logger } from "../log/logger.ts";
import { loadNative } from "../native/addon.ts";
import { EXIT, exitCodeFor, remapExitCode, type Ending, type RemapTable } from "../pid1/exit-code.ts";
import { signalGroup } from "../pid1/send-signal.ts";
import { TERMINAL_FD, takeTerminalBack } from "../pid1/terminal.ts";
import { forwardInHandler } from "../pid1/signal-intake.ts";
import { followTerminalStops } from "../pid1/job-control.ts";
import { SIGNAL_NUMBERS, signalLabel, type RewriteTable } from "../pid1/signals.ts";
import { monotonicMs } from "../time/clock.ts";
import { formatDurationMs } from "../config/duration.ts";
import { isBackoffEngagedAtStart, planCommandBox, type CommandBoxPlan } from "../control/command-box-plan.ts";
import { startMainCommand, type MainCommand } from "../supervisor/main-command.ts";
import { leftoverReserveMs, stopAll } from "../shutdown/stop-all.ts";
import { loadOwnBundle } from "./bundles.ts";
import { onFault, routeSignals, startRuntime, type FaultHandle, type Pid1, type SignalRoutes } from "./runtime.ts";
import { openCommandBox, settleBox, type CommandBoxHandle } from "./tini-box.ts";

export interface RunOptions {
  command: readonly string[];
  graceMs: number;
  rewrites: RewriteTable;
  remaps: RemapTable;
  /** Inherited fds beyond stdio passed on to the command (3..3+N-1). */
  preserveFds: number;
  /** --parent-death-signal: the signal that comes when boxinit's parent dies. */
  parentDeathSignal?: number;
  /** Test hook: spawn this many children from inside boxinit while it runs. */
  selftestSpawnCount?: number;
  /** A state directory: the run is self-managing (control/command-box.ts). */
  box?: CommandBoxPlan | undefined;
}

// What the run's parts share while it goes on.
interface TiniRun {
  main?: MainCommand;
  mainEnding?: Ending;
  isStopping: boolean;
  /** The intake's handler already sent the stop signal to the command's group. */
  isStopSignalSent: boolean;
  isInternalFault: boolean;
  requestStop: (signal: number) => void;
  /** The signal the stop sends, once one is asked for. */
  stopSignal: Promise<number>;
}

// The test hook never throws into the run: its failure is a log line.
const startSelftest = async (count: number, log: Logger): Promise<void> => {
  try {
    await (await import("../pid1/selftest.ts")).spawnStorm(count, log);
  } catch (error) {
    log.error("selftest", `spawn storm failed: ${(error as Error).message}`);
  }
};

// The intake's handler forwards each signal to the command's group itself
// once it runs (forwardInHandler); the router hears of it afterwards: this
// forwards what came before the command ran, and starts the stop.
const tiniRoutes = (run: TiniRun, options: RunOptions, log: Logger): SignalRoutes => ({
  rewrites: options.rewrites,
  stop: (sent, intake) => {
    if (run.isStopping) return 0;
    run.isStopping = true;
    run.isStopSignalSent = intake.forwarded > 0;
    log.info("shutdown", "stop requested", { signal: signalLabel(intake.signal), from: intake.sender || undefined, grace: formatDurationMs(options.graceMs) });
    run.requestStop(sent);
    // The stop sends the first one not sent yet; more of them are forwarded.
    return run.isStopSignalSent ? 0 : 1;
  },
  forward: (sent, times, intake) => {
    const name = signalLabel(intake.signal);
    if (intake.forwarded > 0 && log.isEnabled("debug")) {
      log.debug("signal-forwarded", "forwarded", { signal: name, as: signalLabel(sent), times: intake.forwarded, pgid: run.main?.pgid, from: intake.sender || undefined, result: intake.forwardError ?? "ok" });
    }
    if (times <= 0) return;
    if (!run.main || run.mainEnding) {
      log.debug("signal-dropped", "no running main command to forward to", { signal: name });
      return;
    }
    for (let i = 0; i < times; i++) {
      const result = signalGroup(run.main.pgid, sent);
      if (log.isEnabled("debug")) log.debug("signal-forwarded", "forwarded", { signal: name, as: signalLabel(sent), pgid: run.main.pgid, result });
    }
  },
});

// Once the command ends: the handler stops forwarding, the terminal comes back, the log says so.
const whenMainEnds = (main: MainCommand, run: TiniRun, pid1: Pid1, options: RunOptions, log: Logger): Promise<Ending> =>
  main.ended.then((ending) => {
    run.mainEnding = ending;
    forwardInHandler(pid1.native, 0, options.rewrites);
    if (main.ownsTerminal && pid1.native) takeTerminalBack(pid1.native, main.pgid, log);
    log.info("child-exited", "the main command ended", {
      pid: main.pid,
      code: ending.code ?? undefined,
      signal: ending.signal === null ? undefined : signalLabel(ending.signal),
    });
    return ending;
  });

// The one budget: the stop signal (if asked for) to the command's group,
// then everything left (shutdown/stop-all.ts).
const stopTini = async (run: TiniRun, main: MainCommand, ended: Promise<Ending>, stopWith: number | undefined, pid1: Pid1, options: RunOptions, log: Logger): Promise<void> => {
  const { reaper, scope } = pid1;
  const deadline = monotonicMs() + options.graceMs;
  const reserveMs = leftoverReserveMs(options.graceMs);
  try {
    await stopAll(
      { log, reaper, scope },
      stopWith === undefined ? { deadline, reserveMs } : { main: { pgid: main.pgid, ended, isSignalSent: run.isStopSignalSent }, signal: stopWith, deadline, reserveMs },
    );
  } catch (error) {
    // A fault inside the stop itself: make sure nothing outlives boxinit's budget.
    log.error("internal-error", `stopping failed: ${(error as Error).message}; sending SIGKILL to everything left`);
    run.isInternalFault = true;
    await stopAll({ log, reaper, scope }, { deadline: monotonicMs(), reserveMs: 0 }).catch(() => {});
  }
};

/** Run a command under boxinit; resolves to the exit code for process.exit. */
export const runCommand = async (options: RunOptions, log: Logger, faults: FaultHandle = {}): Promise<number> => {
  const pid1 = startRuntime(log);
  const { native, reaper, scope } = pid1;
  let requestStop: (signal: number) => void = () => {};
  const stopSignal = new Promise<number>((resolve) => {
    requestStop = resolve;
  });
  const run: TiniRun = { isStopping: false, isStopSignalSent: false, isInternalFault: false, requestStop, stopSignal };
  routeSignals(pid1, log, tiniRoutes(run, options, log), options.parentDeathSignal);
  onFault(faults, options.graceMs, () => {
    run.isInternalFault = true;
    run.isStopping = true;
    requestStop(SIGNAL_NUMBERS.SIGTERM!);
  });

  const started = startMainCommand(options.command, options.preserveFds, native, reaper, log);
  // Self-managing: status and the backoff watch are set up from the next turn on, the command already running.
  const box: CommandBoxHandle | undefined = options.box && openCommandBox(options.box, { log, native, rewrites: options.rewrites, isStarted: "pid" in started, requestStop: (signal) => requestStop(signal) });
  if (!("pid" in started)) return settleBox(box, remapExitCode(started.exitCode, options.remaps));
  const main = started;
  run.main = main;
  forwardInHandler(native, main.pgid, options.rewrites, main.ownsTerminal ? TERMINAL_FD : -1);
  if (native && scope === "descendants") followTerminalStops(native, main, () => run.mainEnding !== undefined, log);
  const selftest = options.selftestSpawnCount ? startSelftest(options.selftestSpawnCount, log) : undefined;

  const ended = whenMainEnds(main, run, pid1, options, log);
  const stopWith = await Promise.race([ended.then(() => undefined), stopSignal]);
  run.isStopping = true;
  box?.stopping(stopWith !== undefined);
  await stopTini(run, main, ended, stopWith, pid1, options, log);
  if (selftest) await selftest;

  if (run.isInternalFault) return settleBox(box, EXIT.internal, true);
  const code = remapExitCode(exitCodeFor(run.mainEnding ?? { code: null, signal: SIGNAL_NUMBERS.SIGKILL! }), options.remaps);
  await box?.ended(code);
  log.info("exit", "boxinit exiting", { code, reaped: reaper.reapedCount });
  return code;
};

/**
 * A self-managing run whose backoff is engaged before start runs nothing:
 * `backedoff`, exit 0 (remapped). Returns that code, else the plan to run
 * with (or undefined: the directory is another live boxinit's, run plain).
 * Only the one small read when backoff is off: the box itself is set up
 * after the spawn.
 */
const backedOffAtStart = async (plan: CommandBoxPlan, args: InitArgs, log: Logger): Promise<number | CommandBoxPlan | undefined> => {
  if (!isBackoffEngagedAtStart(plan.stateDir)) return plan;
  const code = remapExitCode(0, args.remaps);
  const { backOffAtStart } = await loadOwnBundle("box");
  return backOffAtStart(plan, { log, native: loadNative().native }, code) ? code : undefined;
};

/** `boxinit [OPTIONS] -- CMD` when nothing asks for Mini-VM mode; resolves to the exit code. */
export const tiniMode = async (args: InitArgs, faults: FaultHandle): Promise<number> => {
  const planned = planCommandBox(args.stateDir, process.env);
  if (!planned.ok) {
    for (const error of planned.errors) writeLine(2, `boxinit: usage: ${error}\n`);
    return EXIT.usage;
  }
  const log = await createLogger(args.logFormat, args.verbosity);
  const box = planned.plan && (await backedOffAtStart(planned.plan, args, log));
  if (typeof box === "number") return box;
  return runCommand(
    { command: args.command, graceMs: args.graceMs, rewrites: args.rewrites, remaps: args.remaps, preserveFds: args.preserveFds, selftestSpawnCount: args.selftestSpawnCount, parentDeathSignal: args.parentDeathSignal, box },
    log,
    faults,
  );
};

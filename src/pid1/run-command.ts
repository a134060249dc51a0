// The tini-style run: one main command under PID 1 duties. Boot order:
// addon, subreaper, reaper, signal handlers, spawn; then wait for the main
// command's end or a stop signal, spend the one budget, and return the code.
import type { Logger } from "../log/logger.ts";
import { bootPid1 } from "./boot.ts";
import { startMainCommand, type MainCommand } from "../supervisor/main-command.ts";
import { leftoverReserveMs, stopAll } from "../shutdown/stop-all.ts";
import { monotonicMs } from "../shutdown/clock.ts";
import { formatDurationMs } from "../config/duration.ts";
import { EXIT, exitCodeFor, remapExitCode, type Ending, type RemapTable } from "./exit-code.ts";
import { signalGroup } from "./send-signal.ts";
import { TERMINAL_FD, takeTerminalBack } from "./terminal.ts";
import { armParentDeathSignal, forwardInHandler, listenForSignals, type SignalIntake } from "./signal-intake.ts";
import { followTerminalStops } from "./job-control.ts";
import { openCommandBox, settleBox } from "../control/command-box-handle.ts";
import type { CommandBoxPlan } from "../control/command-box-plan.ts";
import {
  SIGNAL_NUMBERS,
  SIGNAL_ROUTES,
  rewriteSignal,
  signalLabel,
  type RewriteTable,
} from "./signals.ts";

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

/** How main.ts turns an internal fault into an orderly stop and exit 70. */
export interface FaultHandle {
  /** Set by the run once it can stop in order; main.ts calls it on a fault. */
  onFault?: () => void;
  /** The budget, so main.ts knows how long an orderly stop may take. */
  graceMs?: number;
}

// The test hook never throws into the run: its failure is a log line.
const startSelftest = async (count: number, log: Logger): Promise<void> => {
  try {
    await (await import("./selftest.ts")).spawnStorm(count, log);
  } catch (error) {
    log.error("selftest", `spawn storm failed: ${(error as Error).message}`);
  }
};

/** Run a command under boxinit; resolves to the exit code for process.exit. */
export const runCommand = async (options: RunOptions, log: Logger, faults: FaultHandle = {}): Promise<number> => {
  const { native, reaper, scope } = bootPid1(log);

  let main: MainCommand | undefined;
  let mainEnding: Ending | undefined;
  let requestStop: (signal: number) => void = () => {};
  const stopSignal = new Promise<number>((resolve) => {
    requestStop = resolve;
  });
  let isStopping = false;
  let isInternalFault = false;

  // Signals: the intake's handler forwards each one to the command's group
  // itself once it runs (forwardInHandler below); this hears of it afterwards,
  // forwards what came before the command ran, and starts the stop.
  let isStopSignalSent = false;
  const onSignal = (intake: SignalIntake): void => {
    const name = signalLabel(intake.signal);
    const sent = rewriteSignal(intake.signal, options.rewrites);
    let notYetSent = intake.received - intake.forwarded;
    if (sent === 0) {
      log.debug("signal-dropped", "signal rewritten to 0: not forwarded", { signal: name });
      return;
    }
    if (SIGNAL_ROUTES[name as NodeJS.Signals] === "shutdown" && !isStopping) {
      isStopping = true;
      isStopSignalSent = intake.forwarded > 0;
      log.info("shutdown", "stop requested", { signal: name, from: intake.sender || undefined, grace: formatDurationMs(options.graceMs) });
      requestStop(sent);
      // The stop sends the first one not sent yet; more of them are forwarded below.
      if (!isStopSignalSent) notYetSent -= 1;
    }
    if (intake.forwarded > 0 && log.isEnabled("debug")) {
      log.debug("signal-forwarded", "forwarded", { signal: name, as: signalLabel(sent), times: intake.forwarded, pgid: main?.pgid, from: intake.sender || undefined, result: intake.forwardError ?? "ok" });
    }
    if (notYetSent <= 0) return;
    if (!main || mainEnding) {
      log.debug("signal-dropped", "no running main command to forward to", { signal: name });
      return;
    }
    for (let i = 0; i < notYetSent; i++) {
      const result = signalGroup(main.pgid, sent);
      if (log.isEnabled("debug")) log.debug("signal-forwarded", "forwarded", { signal: name, as: signalLabel(sent), pgid: main.pgid, result });
    }
  };
  listenForSignals(native, log, onSignal);
  if (options.parentDeathSignal !== undefined) armParentDeathSignal(native, options.parentDeathSignal, log);
  faults.graceMs = options.graceMs;
  faults.onFault = () => {
    isInternalFault = true;
    isStopping = true;
    requestStop(SIGNAL_NUMBERS.SIGTERM!);
  };

  const started = startMainCommand(options.command, options.preserveFds, native, reaper, log);
  // Self-managing: status and the backoff watch are set up from the next turn on, the command already running.
  const box = options.box && openCommandBox(options.box, { log, native, rewrites: options.rewrites, isStarted: "pid" in started, requestStop: (signal) => requestStop(signal) });
  if (!("pid" in started)) return settleBox(box, remapExitCode(started.exitCode, options.remaps));
  main = started;
  forwardInHandler(native, main.pgid, options.rewrites, main.ownsTerminal ? TERMINAL_FD : -1);
  if (native && scope === "descendants") followTerminalStops(native, main, () => mainEnding !== undefined, log);
  const selftest = options.selftestSpawnCount ? startSelftest(options.selftestSpawnCount, log) : undefined;

  const ended = main.ended.then((ending) => {
    mainEnding = ending;
    forwardInHandler(native, 0, options.rewrites);
    if (main?.ownsTerminal && native) takeTerminalBack(native, main.pgid, log);
    log.info("child-exited", "the main command ended", {
      pid: main?.pid,
      code: ending.code ?? undefined,
      signal: ending.signal === null ? undefined : signalLabel(ending.signal),
    });
    return ending;
  });
  const stopWith = await Promise.race([ended.then(() => undefined), stopSignal]);
  isStopping = true;
  box?.stopping(stopWith !== undefined);
  const deadline = monotonicMs() + options.graceMs;
  const reserveMs = leftoverReserveMs(options.graceMs);
  try {
    await stopAll(
      { log, reaper, scope },
      stopWith === undefined ? { deadline, reserveMs } : { main: { pgid: main.pgid, ended, isSignalSent: isStopSignalSent }, signal: stopWith, deadline, reserveMs },
    );
  } catch (error) {
    // A fault inside the stop itself: make sure nothing outlives boxinit's budget.
    log.error("internal-error", `stopping failed: ${(error as Error).message}; sending SIGKILL to everything left`);
    isInternalFault = true;
    await stopAll({ log, reaper, scope }, { deadline: monotonicMs(), reserveMs: 0 }).catch(() => {});
  }
  if (selftest) await selftest;

  if (isInternalFault) return settleBox(box, EXIT.internal, true);
  const code = remapExitCode(exitCodeFor(mainEnding ?? { code: null, signal: SIGNAL_NUMBERS.SIGKILL! }), options.remaps);
  await box?.ended(code);
  log.info("exit", "boxinit exiting", { code, reaped: reaper.reapedCount });
  return code;
};

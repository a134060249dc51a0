// The tini-style run: one main command under PID 1 duties. Boot order:
// addon, subreaper, reaper, signal handlers, spawn; then wait for the main
// command's end or a stop signal, spend the one budget, and return the code.
import type { Logger } from "../log/logger.ts";
import { loadNative, type Native } from "../native/addon.ts";
import { startMainCommand, type MainCommand } from "../supervisor/main-command.ts";
import { stopAll } from "../shutdown/stop-all.ts";
import { monotonicMs } from "../shutdown/clock.ts";
import { formatDurationMs } from "../config/duration.ts";
import { EXIT, exitCodeFor, remapExitCode, type Ending, type RemapTable } from "./exit-code.ts";
import { Reaper } from "./reaper.ts";
import { killScopeFor, signalGroup, type KillScope } from "./send-signal.ts";
import {
  HANDLED_SIGNALS,
  SIGNAL_NAMES,
  SIGNAL_NUMBERS,
  SIGNAL_ROUTES,
  rewriteSignal,
  type RewriteTable,
} from "./signals.ts";

export interface RunOptions {
  command: readonly string[];
  graceMs: number;
  rewrites: RewriteTable;
  remaps: RemapTable;
  /** Test hook: spawn this many children from inside boxinit while it runs. */
  selftestSpawnCount?: number;
}

/** Hooks main.ts uses to turn an internal fault into an orderly exit 70. */
export interface FaultHandle {
  onFault?: () => void;
}

const reportAddon = (native: Native | undefined, failures: readonly string[], log: Logger): void => {
  if (native) {
    log.debug("addon", "native addon loaded", { from: native.source });
    return;
  }
  log.warn("addon", "native addon could not be loaded: orphaned processes will NOT be reaped and zombies will accumulate; install boxinit.node beside the executable or at /usr/lib/boxinit/boxinit.node", { tried: [...failures] });
};

const becomeSubreaper = (native: Native | undefined, log: Logger): void => {
  if (!native) {
    log.warn("subreaper", "not PID 1 and no addon: orphans re-parent past boxinit and are not waited for");
    return;
  }
  try {
    native.setChildSubreaper();
    log.info("subreaper", "not PID 1: registered as a child subreaper so orphans re-parent to boxinit", { pid: process.pid });
  } catch (error) {
    log.warn("subreaper", `not PID 1 and could not become a child subreaper: ${(error as Error).message}`);
  }
};

/** Run a command under boxinit; resolves to the exit code for process.exit. */
export const runCommand = async (options: RunOptions, log: Logger, faults: FaultHandle = {}): Promise<number> => {
  const { native, failures } = loadNative();
  reportAddon(native, failures, log);
  const scope: KillScope = killScopeFor(process.pid);
  if (scope === "descendants") becomeSubreaper(native, log);
  const reaper = new Reaper(native, log);
  reaper.install();

  let main: MainCommand | undefined;
  let mainEnding: Ending | undefined;
  let stopRequested: ((signal: number | undefined) => void) | undefined;
  const stopSignal = new Promise<number | undefined>((resolve) => {
    stopRequested = resolve;
  });
  let isStopping = false;
  let isInternalFault = false;

  const onSignal = (name: NodeJS.Signals): void => {
    const received = SIGNAL_NUMBERS[name]!;
    const sent = rewriteSignal(received, options.rewrites);
    const sentName = SIGNAL_NAMES[sent] ?? String(sent);
    if (sent === 0) {
      log.debug("signal-dropped", "signal rewritten to 0: not forwarded", { signal: name });
      return;
    }
    if (SIGNAL_ROUTES[name] === "shutdown" && !isStopping) {
      isStopping = true;
      log.info("shutdown", "stop requested", { signal: name, grace: formatDurationMs(options.graceMs) });
      stopRequested?.(sent);
      return;
    }
    if (!main || mainEnding) {
      log.debug("signal-dropped", "no running main command to forward to", { signal: name });
      return;
    }
    const result = signalGroup(main.pgid, sent);
    if (log.isEnabled("debug")) log.debug("signal-forwarded", "forwarded", { signal: name, as: sentName, pgid: main.pgid, result });
  };
  for (const name of HANDLED_SIGNALS) process.on(name, onSignal);
  acceptSigusr1(native, log);
  faults.onFault = () => {
    isInternalFault = true;
    isStopping = true;
    stopRequested?.(SIGNAL_NUMBERS.SIGTERM);
  };

  const started = startMainCommand(options.command, native, log);
  if (!("pid" in started)) return remapExitCode(started.exitCode, options.remaps);
  main = started;
  const selftest = options.selftestSpawnCount
    ? (await import("../cli/selftest.ts")).spawnStorm(options.selftestSpawnCount, log)
    : undefined;

  const ended = main.ended.then((ending) => {
    mainEnding = ending;
    if (main?.ownsTerminal && native) takeTerminalBack(native, log);
    log.info("child-exited", "the main command ended", { pid: main?.pid, code: ending.code ?? undefined, signal: ending.signal ?? undefined });
    return ending;
  });
  const first = await Promise.race([ended.then(() => undefined), stopSignal.then((signal) => ({ signal }))]);
  isStopping = true;
  const deadline = monotonicMs() + options.graceMs;
  await stopAll(
    { log, reaper, scope },
    first === undefined ? { deadline } : { main: { pgid: main.pgid, ended }, signal: first.signal, deadline },
  );
  if (selftest) await selftest;

  if (isInternalFault) return EXIT.internal;
  const ending = mainEnding ?? { code: null, signal: "SIGKILL" };
  const code = remapExitCode(exitCodeFor(ending, SIGNAL_NUMBERS), options.remaps);
  log.info("exit", "boxinit exiting", { code, reaped: reaper.reapedCount });
  return code;
};

// The executable runs with --disable-sigusr1: Node blocks SIGUSR1 from its
// first instruction, so it can never open the inspector (code execution for
// anyone who may signal PID 1). With our handler in place it is safe to take.
const acceptSigusr1 = (native: Native | undefined, log: Logger): void => {
  if (!native) {
    log.warn("signal-dropped", "without the addon SIGUSR1 stays blocked and is not forwarded");
    return;
  }
  try {
    native.unblockSignal(SIGNAL_NUMBERS.SIGUSR1!);
  } catch (error) {
    log.warn("signal-dropped", `SIGUSR1 will not be forwarded: ${(error as Error).message}`);
  }
};

// The command held the terminal's foreground; give it back to boxinit's group
// so a shell that started boxinit (or the container's pty) gets input again.
const takeTerminalBack = (native: Native, log: Logger): void => {
  try {
    native.setForeground(0, native.getpgrp());
  } catch (error) {
    log.debug("terminal", `could not take the terminal back: ${(error as Error).message}`);
  }
};

// How signals reach a run: the addon's intake (native/signal-intake.c) takes
// every catchable signal from boxinit's first line, and each run listens here.
// The tini-style run also lets the handler forward on its own (forwardInHandler):
// the command's handler then runs before boxinit's event loop even wakes.
import type { Logger } from "../log/logger.ts";
import { loadNative, type Native, type SignalIntake } from "../native/addon.ts";
import { HANDLED_SIGNALS, NEEDS_SIGINFO, SIGNAL_NUMBERS, SIGNAL_ROUTES, rewriteSignal, type RewriteTable } from "./signals.ts";

export type { SignalIntake };

// The parent at the first line: a parent that dies before the parent-death
// signal is armed is told by a different getppid() (see armParentDeathSignal).
let parentAtStart = 0;

/**
 * The first thing a PID 1 run does (main.ts): from here on a signal neither
 * kills boxinit nor gets lost; it is counted until the run listens, then
 * forwarded. Without the addon nothing changes here (the boot says so).
 */
export const takeSignalsEarly = (): void => {
  parentAtStart = process.ppid;
  const { native } = loadNative();
  try {
    native?.takeSignals();
  } catch {
    // listenForSignals tries again and reports it.
  }
};

/** Deliver every signal taken (those before this call included) to listener, on the event loop. */
export const listenForSignals = (native: Native | undefined, log: Logger, listener: (intake: SignalIntake) => void): void => {
  if (native) {
    try {
      native.takeSignals();
      native.listenSignals(listener);
      keepIntakeInPlace(native, log);
      return;
    } catch (error) {
      log.warn("signal-dropped", `the signal intake failed (${(error as Error).message}): using Node's signal handlers`);
    }
  }
  log.warn("signal-dropped", "without the addon's signal intake, SIGUSR1 stays blocked and fault-named signals, SIGPIPE, SIGXFSZ, SIGTTIN and SIGTTOU are not forwarded");
  for (const name of HANDLED_SIGNALS) {
    if (NEEDS_SIGINFO.has(name) || name === "SIGUSR1") continue;
    const signal = SIGNAL_NUMBERS[name]!;
    process.on(name, () => listener({ signal, received: 1, forwarded: 0, sender: 0, code: 0, forwardError: undefined }));
  }
};

/**
 * A process.on('SIGx') anywhere in boxinit (Node's own: the SIGWINCH listener
 * of a terminal process.stdout; a library's: signal-exit) makes libuv install
 * its handler over the intake's, and removing the last one sets the default
 * action: either would silently end forwarding that signal (signal-exit even
 * re-raises it at boxinit). Node starts and stops its handler in its own
 * newListener/removeListener listeners, which run before these: the intake is
 * put back right after. Such listeners are then never called.
 */
const keepIntakeInPlace = (native: Native, log: Logger): void => {
  const retake = (event: string | symbol): void => {
    if (typeof event !== "string" || !(event in SIGNAL_ROUTES)) return;
    try {
      native.takeSignals();
      log.debug("signal-forwarded", "a signal listener inside boxinit would have replaced the intake: put back", { signal: event });
    } catch (error) {
      log.warn("signal-dropped", `the signal intake could not be put back for ${event}: ${(error as Error).message}`);
    }
  };
  process.on("newListener", retake);
  process.on("removeListener", retake);
};

/** The same listener, called once for each signal received (for runs that forward in JavaScript). */
export const eachSignal = (handle: (signal: number) => void) => (intake: SignalIntake): void => {
  for (let i = 0; i < intake.received; i++) handle(intake.signal);
};

/**
 * Let the signal handler forward every taken signal, as rewritten, to process
 * group pgid (0: stop doing so). terminalFd >= 0: the group owns that
 * terminal, which SIGCONT gives back to it (fg after Ctrl-Z).
 */
export const forwardInHandler = (native: Native | undefined, pgid: number, rewrites: RewriteTable, terminalFd = -1): void => {
  if (!native) return;
  const sendAs: number[] = [-1];
  for (let signal = 1; signal <= 31; signal++) sendAs.push(rewriteSignal(signal, rewrites));
  native.forwardSignals(pgid, sendAs, terminalFd);
};

/**
 * --parent-death-signal: when boxinit is not PID 1, its parent's death sends
 * it signal (tini -p). A parent already gone by now counts as dying now.
 */
export const armParentDeathSignal = (native: Native | undefined, signal: number, log: Logger): void => {
  if (process.pid === 1) {
    log.debug("parent-death", "PID 1 has no parent in its namespace: --parent-death-signal has nothing to watch");
    return;
  }
  if (!native) {
    log.warn("parent-death", "without the addon the parent-death signal cannot be armed");
    return;
  }
  try {
    if (native.setParentDeathSignal(signal, parentAtStart)) log.warn("parent-death", "the parent had already ended: taking the parent-death signal now");
  } catch (error) {
    log.warn("parent-death", `could not arm the parent-death signal: ${(error as Error).message}`);
  }
};

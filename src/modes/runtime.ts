// What every PID 1 run shares, in boot order: the PID 1 duties (addon,
// subreaper, reaper: pid1/boot.ts), the one signal router, the parent-death
// signal, and the hook main.ts turns an internal fault into an orderly stop
// with. The signals themselves were taken at boxinit's first line
// (pid1/signal-intake.ts); the router decides what each one does in a run.
import type { Logger } from "../log/logger.ts";
import { bootPid1, type Pid1 } from "../pid1/boot.ts";
import { armParentDeathSignal, listenForSignals, type SignalIntake } from "../pid1/signal-intake.ts";
import { SIGNAL_ROUTES, rewriteSignal, signalLabel, type RewriteTable } from "../pid1/signals.ts";

export type { Pid1, SignalIntake };

/** How main.ts turns an internal fault into an orderly stop and exit 70. */
export interface FaultHandle {
  /** Set by the run once it can stop in order; main.ts calls it on a fault. */
  onFault?: () => void;
  /** The budget, so main.ts knows how long an orderly stop may take. */
  graceMs?: number;
}

/** What a run does with the signals it gets; the router rewrites them and drops those rewritten to 0. */
export interface SignalRoutes {
  /** --rewrite; the batch job has none. */
  rewrites: RewriteTable;
  /**
   * A signal whose route is "shutdown" (TERM, INT, QUIT), as rewritten:
   * start the stop. Returns how many of the intake's signals the stop takes
   * for itself; the rest are forwarded.
   */
  stop(sent: number, intake: SignalIntake): number;
  /**
   * Pass the signal on: `times` copies of `sent` not sent yet (the tini-style
   * run's intake handler may have forwarded some itself: intake.forwarded).
   * Called when times > 0 or the handler forwarded any.
   */
  forward(sent: number, times: number, intake: SignalIntake): void;
}

/** The PID 1 duties: call once, before anything is spawned. */
export const startRuntime = (log: Logger): Pid1 => bootPid1(log);

/**
 * Route every signal taken (those before this call included) through routes,
 * on the event loop; then arm --parent-death-signal when given. The one
 * router the three PID 1 runs (tini, Mini-VM, job) share.
 */
export const routeSignals = (pid1: Pid1, log: Logger, routes: SignalRoutes, parentDeathSignal?: number): void => {
  listenForSignals(pid1.native, log, (intake) => {
    const sent = rewriteSignal(intake.signal, routes.rewrites);
    if (sent === 0) {
      log.debug("signal-dropped", "signal rewritten to 0: not forwarded", { signal: signalLabel(intake.signal) });
      return;
    }
    let times = intake.received - intake.forwarded;
    if (SIGNAL_ROUTES[signalLabel(intake.signal) as NodeJS.Signals] === "shutdown") times -= routes.stop(sent, intake);
    if (times > 0 || intake.forwarded > 0) routes.forward(sent, Math.max(0, times), intake);
  });
  if (parentDeathSignal !== undefined) armParentDeathSignal(pid1.native, parentDeathSignal, log);
};

/** Let main.ts stop the run in order on an internal fault, within graceMs. */
export const onFault = (faults: FaultHandle, graceMs: number, stop: () => void): void => {
  faults.graceMs = graceMs;
  faults.onFault = stop;
};

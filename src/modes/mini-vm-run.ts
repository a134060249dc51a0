// What one boot-to-stop of a Mini-VM box shares while it goes on (a "run"):
// the first reason to stop, the main command, the init script running now.
// With idle backoff (backoff.on_engage: idle) a box goes through several runs,
// and an idle spell between them is a run of its own that starts nothing; the
// session says which run is current, so signals, faults and the backoff watch
// always reach the one that is going on.
import type { Logger } from "../log/logger.ts";
import { signalLabel } from "../pid1/signals.ts";
import { formatDurationMs } from "../config/duration.ts";
import type { InitScriptTracker } from "../supervisor/boot.ts";
import type { StopReason } from "../supervisor/box-states.ts";
import type { MainCommand } from "../supervisor/main-command.ts";

export interface MiniVmRun {
  /** The first reason to stop; later ones are ignored. */
  stopReason?: StopReason;
  requestStop: (reason: StopReason) => void;
  stopRequested: Promise<StopReason>;
  main?: MainCommand;
  isMainRunning: boolean;
  initScript: InitScriptTracker;
}

/** The run going on now; replaced at each boot and each idle spell. */
export interface MiniVmSession {
  run: MiniVmRun;
  /** Idle in backoff: a new "engaged" is no reason to stop (nothing runs). */
  isIdle?: boolean;
  /** While idle in backoff: called when the backoff file no longer says true. */
  onReleased?: (() => void) | undefined;
}

export const describeReason = (reason: StopReason): string => {
  switch (reason.kind) {
    case "signal": return `received ${signalLabel(reason.signal)}`;
    case "backoff": return "backoff engaged";
    case "critical": return `critical service ${reason.service} ended`;
    case "main-ended": return "the main command ended";
    case "boot-failed": return `boot failed: ${reason.why}`;
    case "fault": return "internal fault";
  }
};

/** A new run; its first requestStop is logged and resolves stopRequested. */
export const newRun = (log: Logger, graceMs: number): MiniVmRun => {
  let resolveStop: (reason: StopReason) => void = () => {};
  const stopRequested = new Promise<StopReason>((resolve) => {
    resolveStop = resolve;
  });
  const run: MiniVmRun = { stopRequested, isMainRunning: false, initScript: {}, requestStop: (reason) => {
    if (run.stopReason) return;
    run.stopReason = reason;
    log.info("shutdown", `stopping: ${describeReason(reason)}`, { grace: formatDurationMs(graceMs) });
    resolveStop(reason);
  } };
  return run;
};

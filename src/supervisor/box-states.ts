// The container's lifecycle as a table (starting → warming → running ⇄
// degraded → stopping → stopped | backedoff | failed), the pure rule that says
// when a booted box is degraded, and the one that turns the reason for
// stopping into the final state and exit code.
import { EXIT, exitCodeFor, type Ending } from "../pid1/exit-code.ts";
import { COMING_BACK_STATES, type BoxState } from "../control/status-file.ts";

export type { BoxState };

/**
 * Allowed next states; backedoff and failed may also be reached before
 * anything started. `degraded` is only reached from `running`: before the
 * boot is over a service that is down is part of starting or warming.
 * `backedoff` is final unless backoff.on_engage is idle: PID 1 then stays up
 * in it and boots again (`starting`) when backoff is released, or fails on an
 * internal fault.
 */
export const BOX_TRANSITIONS: Record<BoxState, readonly BoxState[]> = {
  starting: ["warming", "running", "stopping", "backedoff"],
  warming: ["running", "stopping"],
  running: ["degraded", "stopping"],
  degraded: ["running", "stopping"],
  stopping: ["stopped", "backedoff", "failed"],
  stopped: [],
  backedoff: ["starting", "failed"],
  failed: [],
};

export const canMoveBox = (from: BoxState, to: BoxState): boolean => from === to || BOX_TRANSITIONS[from].includes(to);

/** What the box-state rule needs to know of a service. */
export interface ServiceView {
  state: string;
  isCritical: boolean;
}

/**
 * Where a booted box goes when a service changes: `degraded` while a critical
 * service is on its way back, `running` once every one is running again.
 * Other states are left alone: before the boot ends the box is starting or
 * warming, and once the box is stopping nothing comes back. A critical service
 * that ended for good does not degrade the box: it stops it, in the same turn.
 */
export const bootedBoxState = (current: BoxState, services: readonly ServiceView[]): BoxState => {
  if (current !== "running" && current !== "degraded") return current;
  return services.some((service) => service.isCritical && COMING_BACK_STATES.has(service.state)) ? "degraded" : "running";
};

/** Why boxinit is stopping; the first reason wins. */
export type StopReason =
  | { kind: "signal"; signal: number }
  | { kind: "backoff" }
  | { kind: "critical"; service: string; ending: Ending }
  | { kind: "main-ended"; ending: Ending }
  | { kind: "boot-failed"; code: number; why: string }
  | { kind: "fault" };

/** What the stop itself produced. */
export interface StopResults {
  /** Exit codes of the stop commands, in stop order. */
  stopCodes: number[];
  /** Whether anything got SIGKILL at a deadline. */
  hasKilled: boolean;
  /** The main command's ending, when there was one and it ended. */
  mainEnding?: Ending;
}

/**
 * The final state and exit code. A stop that boxinit was asked for (signal,
 * backoff) exits with the first failing stop command's code, else 137 when
 * something had to be killed, else 0; with a main command, a signal stop
 * exits with the main command's code, as tini does.
 */
export const finalOutcome = (reason: StopReason, results: StopResults): { state: BoxState; code: number } => {
  const requestedStopCode = (): number => results.stopCodes.find((code) => code !== 0) ?? (results.hasKilled ? EXIT.killed : 0);
  switch (reason.kind) {
    case "backoff":
      return { state: "backedoff", code: requestedStopCode() };
    case "signal":
      return { state: "stopped", code: results.mainEnding ? exitCodeFor(results.mainEnding) : requestedStopCode() };
    case "main-ended":
      return { state: "stopped", code: exitCodeFor(reason.ending) };
    case "critical": {
      const code = exitCodeFor(reason.ending);
      return { state: code === 0 ? "stopped" : "failed", code };
    }
    case "boot-failed":
      return { state: "failed", code: reason.code };
    case "fault":
      return { state: "failed", code: EXIT.internal };
  }
};

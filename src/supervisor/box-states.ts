// The container's lifecycle as a table (starting → warming → running →
// stopping → stopped | backedoff | failed), and the pure rule that turns the
// reason for stopping into the final state and exit code.
import { EXIT, exitCodeFor, type Ending } from "../pid1/exit-code.ts";
import type { BoxState } from "../control/status-file.ts";

export type { BoxState };

/** Allowed next states; backedoff and failed may also be reached before anything started. */
export const BOX_TRANSITIONS: Record<BoxState, readonly BoxState[]> = {
  starting: ["warming", "running", "stopping", "backedoff"],
  warming: ["running", "stopping"],
  running: ["stopping"],
  stopping: ["stopped", "backedoff", "failed"],
  stopped: [],
  backedoff: [],
  failed: [],
};

export const canMoveBox = (from: BoxState, to: BoxState): boolean => from === to || BOX_TRANSITIONS[from].includes(to);

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

// The box of a self-managing tini-style run as a state × event table: it is
// `running` from its first write (the command is exec'd before the box is set
// up), `stopping` once the one budget is being spent, and ends `stopped`,
// `backedoff` or `failed`. Pure: command-box.ts does the writing.
import type { BoxState } from "./status-file.ts";

/** What happens to the box; the end is split by why the stop began and how it went. */
export type CommandBoxEvent =
  | "spawned" // the command runs
  | "not-started" // it could not be exec'd (126/127/71): nothing ran
  | "stop" // the budget is being spent
  | "ended-stopped" // asked to stop (a signal), or the command ended with code 0
  | "ended-backedoff" // backoff asked for the stop
  | "ended-failed"; // the command ended non-zero on its own, or boxinit had a fault

/** Why the stop began: asked by a signal or a fault, by backoff, or the command ended on its own. */
export type StopCause = "requested" | "backoff" | "command-ended";

const MOVES: Record<BoxState, Partial<Record<CommandBoxEvent, BoxState>>> = {
  starting: { spawned: "running", "not-started": "failed" },
  warming: {},
  running: { stop: "stopping" },
  degraded: {},
  stopping: { "ended-stopped": "stopped", "ended-backedoff": "backedoff", "ended-failed": "failed" },
  stopped: {},
  backedoff: {},
  failed: {},
};

/** The next state, or undefined when the table has no such move (a bug to log). */
export const nextCommandBoxState = (from: BoxState, event: CommandBoxEvent): BoxState | undefined => MOVES[from][event];

/**
 * How the box ends. A stop boxinit was asked for ends `stopped` (backoff:
 * `backedoff`) whatever the command's code, as Mini-VM mode does for a signal;
 * a command that ended on its own is the box's only, critical service: `failed`
 * unless its code (after --remap-exit, so the state and the written exitCode
 * agree) is 0. A fault inside boxinit is `failed` whatever came before.
 */
export const endEvent = (cause: StopCause, code: number, isFault: boolean): CommandBoxEvent => {
  if (isFault) return "ended-failed";
  if (cause === "backoff") return "ended-backedoff";
  if (cause === "requested") return "ended-stopped";
  return code === 0 ? "ended-stopped" : "ended-failed";
};

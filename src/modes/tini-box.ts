// The main bundle's side of a self-managing tini-style run: tini.ts calls
// these at once, in order; they are replayed on the box
// (control/command-box.ts) once its bundle is loaded, a turn after the spawn.
// Nothing here touches a file, so the command's start-up is the same as
// without a state directory.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { loadOwnBundle } from "./bundles.ts";
import { rewriteSignal, SIGNAL_NUMBERS, type RewriteTable } from "../pid1/signals.ts";
import type { CommandBoxPlan } from "../control/command-box-plan.ts";
import type { CommandBox } from "../control/command-box.ts";
import { isoTime } from "../time/iso-time.ts";

export interface CommandBoxHandle {
  /** The budget is being spent; isRequested: a signal, fault or backoff asked, not the command's own end. */
  stopping(isRequested: boolean): void;
  /** Write the final state with boxinit's exit code; resolves once it is on disk (or failed and was logged). */
  ended(code: number, isFault?: boolean): Promise<void>;
}

export interface CommandBoxOptions {
  log: Logger;
  native: Native | undefined;
  rewrites: RewriteTable;
  /** false: the command could not be exec'd, and ended() follows at once. */
  isStarted: boolean;
  /** Start the orderly stop with this signal for the command's process group. */
  requestStop: (signal: number) => void;
}

const SIGTERM = SIGNAL_NUMBERS.SIGTERM!;

/**
 * The signal backoff stops the command with: SIGTERM as --rewrite maps it.
 * A rewrite to 0 (TERM:0, "do not forward TERM") still sends SIGTERM: a
 * backoff that cannot stop the command would only wait for SIGKILL.
 */
export const backoffStopSignal = (rewrites: RewriteTable): number => rewriteSignal(SIGTERM, rewrites) || SIGTERM;

const describe = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));

/** Open the box for a spawned (or unstartable) command; its files are written from the next turn on. */
export const openCommandBox = (plan: CommandBoxPlan, options: CommandBoxOptions): CommandBoxHandle => {
  const { log } = options;
  const startedAt = isoTime();
  let isStopping = false;
  // A failure to set the box up is logged and the command runs on without
  // status: the application must not pay for its init's bookkeeping. A stale
  // status then makes `boxinit health` fail, which is the visible signal.
  const box: Promise<CommandBox | undefined> = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => loadOwnBundle("box"))
    .then(({ startCommandBox }) =>
      startCommandBox(plan, {
        log,
        native: options.native,
        onBackoff: () => options.requestStop(backoffStopSignal(options.rewrites)),
        isStopping: () => isStopping,
      }, { isStarted: options.isStarted, at: startedAt }))
    .catch((error: unknown) => {
      log.error("internal-error", `state directory: cannot set up the status writer: ${describe(error)}; the command runs on without status or backoff`, { dir: plan.stateDir });
      return undefined;
    });
  // Each call waits for the ones before it: the box sees them in order.
  let queue: Promise<void> = box.then(() => undefined);
  const enqueue = (step: (opened: CommandBox) => void | Promise<void>): Promise<void> =>
    (queue = queue
      .then(() => box)
      .then((opened) => (opened ? step(opened) : undefined))
      .catch((error: unknown) => log.error("internal-error", `state directory: ${describe(error)}`, { dir: plan.stateDir })));
  return {
    stopping(isRequested) {
      isStopping = true;
      const at = isoTime();
      void enqueue((opened) => opened.stopping(isRequested, at));
    },
    ended(code, isFault = false) {
      isStopping = true;
      const at = isoTime();
      return enqueue((opened) => opened.ended(code, isFault, at));
    },
  };
};

/** Write the box's final state (when there is a box), then hand back the exit code. */
export const settleBox = async (box: CommandBoxHandle | undefined, code: number, isFault = false): Promise<number> => {
  await box?.ended(code, isFault);
  return code;
};

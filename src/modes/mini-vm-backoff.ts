// Backoff in Mini-VM mode beyond the stop itself. on_engage exit (the
// default, Docker): engaged at start, nothing starts and boxinit exits 0. on_engage
// idle (a Pod, where an exit is a crash loop): once the services are stopped,
// PID 1 stays up in `backedoff` with its heartbeat and no exit code (health
// --live passes, --ready fails) until the file no longer says true, which
// boots the box again from its init scripts, or a stop signal ends it.
import type { Logger } from "../log/logger.ts";
import { EXIT, remapExitCode, type RemapTable } from "../pid1/exit-code.ts";
import type { Box } from "../supervisor/box.ts";
import type { StopReason } from "../supervisor/box-states.ts";
import { newRun, type MiniVmSession } from "./mini-vm-run.ts";

/** Engaged at start with on_engage exit: nothing starts, the box is backedoff with exit code 0 (remapped). */
export const endBackedOffAtStart = async (box: Box, backoffFile: string, remaps: RemapTable, log: Logger): Promise<number> => {
  log.info("backoff", `backoff is engaged (${backoffFile} says true): starting nothing`);
  box.exitCode = remapExitCode(0, remaps);
  box.move("backedoff");
  await box.close();
  log.info("exit", "boxinit exiting", { state: box.state, code: box.exitCode });
  return box.exitCode;
};

// Resolves when the watch reports a release (session.onReleased), at once when the file says false already.
const releasedOnce = (box: Box, session: MiniVmSession): Promise<void> =>
  new Promise<void>((resolve) => {
    session.onReleased = resolve;
    if (!box.backoff.isEngaged()) resolve();
  });

/**
 * on_engage idle: stay up in `backedoff` until the backoff file is released
 * (resolves undefined; the box is `starting` and the session holds a fresh run
 * for the boot) or a stop comes (resolves its reason). The session's current
 * run stands for the idle spell: a signal or a fault reaches it as always.
 */
export const idleInBackoff = async (box: Box, session: MiniVmSession, backoffFile: string, graceMs: number, log: Logger): Promise<StopReason | undefined> => {
  const { run } = session;
  session.isIdle = true;
  try {
    if (run.stopReason) return run.stopReason;
    // Logged before the state is written: whoever sees `backedoff` finds the line.
    log.info("backoff", `idle: backoff is engaged (${backoffFile} says true): PID 1 stays up, not ready, and boots again once it no longer says true`);
    box.move("backedoff");
    // A release and a new true in the same turn: the value now decides.
    do {
      await Promise.race([releasedOnce(box, session), run.stopRequested]);
    } while (!run.stopReason && box.backoff.isEngaged());
    if (run.stopReason) return run.stopReason;
  } finally {
    session.isIdle = false;
    session.onReleased = undefined;
  }
  log.info("backoff", `backoff released (${backoffFile} no longer says true): booting again`);
  session.run = newRun(log, graceMs);
  box.clearServices();
  box.move("starting");
  return undefined;
};

/**
 * A stop while idle: the box ends `backedoff` with exit code 0 (remapped), as
 * one backed off at start; a fault ends it `failed` with 70. Nothing runs to be stopped.
 */
export const endIdle = async (box: Box, reason: StopReason, remaps: RemapTable, log: Logger): Promise<number> => {
  const isFault = reason.kind === "fault";
  box.exitCode = remapExitCode(isFault ? EXIT.internal : 0, remaps);
  box.move(isFault ? "failed" : "backedoff");
  await box.close();
  log.info("exit", "boxinit exiting", { state: box.state, code: box.exitCode });
  return box.exitCode;
};

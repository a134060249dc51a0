// The PID 1 duties every mode starts with, in boot order: load the addon,
// become a subreaper when not PID 1, install the reaper. Signals are taken
// before all of this, at the first line (signal-intake.ts).
import type { Logger } from "../log/logger.ts";
import { loadNative, type Native } from "../native/addon.ts";
import { Reaper } from "./reaper.ts";
import { killScopeFor, type KillScope } from "./send-signal.ts";

/** What the boot leaves for the rest of the run. */
export interface Pid1 {
  native: Native | undefined;
  reaper: Reaper;
  scope: KillScope;
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

/** Addon, subreaper and reaper: call once, before anything is spawned. */
export const bootPid1 = (log: Logger): Pid1 => {
  const { native, failures } = loadNative();
  reportAddon(native, failures, log);
  // Node calls its main thread "MainThread": ps and `docker top` should say boxinit.
  try {
    native?.setName("boxinit");
  } catch {
    // Cosmetic only.
  }
  const scope = killScopeFor(process.pid);
  if (scope === "descendants") becomeSubreaper(native, log);
  const reaper = new Reaper(native, log);
  reaper.install();
  return { native, reaper, scope };
};

// Interactive use (`docker run -it IMAGE bash`): the command must own the
// terminal's foreground so job control works and Ctrl-C reaches it once. The
// addon's forkExec (pid1/spawn.ts) makes the child's new process group the foreground
// between fork and exec (Node's detached spawn calls setsid instead, which
// loses the terminal); boxinit takes the foreground back when it ends.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";

/** The terminal on stdin, if any: its fd for the child's foreground. */
export const TERMINAL_FD = 0;

/**
 * Whether the command should get the terminal: stdin is one and boxinit's
 * group holds its foreground (a boxinit started in the background with `&`
 * must not steal the terminal from the shell). Caveat: inside a PID namespace
 * whose creator's group lies outside it (`unshare --pid` on a terminal), both
 * ids read as 0 and foreground cannot be told from background: boxinit
 * assumes foreground there. Under `docker run -it` PID 1 leads its own
 * session, so the ids are real.
 */
export const shouldHandOverTerminal = (native: Native): boolean => {
  if (!native.isatty(TERMINAL_FD)) return false;
  try {
    return native.getForeground(TERMINAL_FD) === native.getpgrp();
  } catch {
    return false; // a terminal that is not our controlling one
  }
};

/** Take the terminal back from the command's group, if it still holds it. */
export const takeTerminalBack = (native: Native, commandPgid: number, log: Logger): void => {
  try {
    if (native.getForeground(TERMINAL_FD) !== commandPgid) return;
    native.setForeground(TERMINAL_FD, native.getpgrp());
  } catch (error) {
    log.debug("terminal", `could not take the terminal back: ${(error as Error).message}`);
  }
};

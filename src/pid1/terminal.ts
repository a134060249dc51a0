// Interactive use (`docker run -it IMAGE bash`): the command must own the
// terminal's foreground so job control works and Ctrl-C reaches it once. The
// addon's spawnCommand makes the child's new process group the foreground
// between fork and exec (Node's detached spawn calls setsid instead, which
// loses the terminal); boxinit takes the foreground back when it ends.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";

/** The terminal on stdin, if any: its fd for the child's foreground. */
export const TERMINAL_FD = 0;

/** Give the terminal back to boxinit's group, so whoever started boxinit gets input again. */
export const takeTerminalBack = (native: Native, log: Logger): void => {
  try {
    native.setForeground(TERMINAL_FD, native.getpgrp());
  } catch (error) {
    log.debug("terminal", `could not take the terminal back: ${(error as Error).message}`);
  }
};

// Interactive use (`docker run -it IMAGE bash`): the command must own the
// terminal's foreground so job control works and Ctrl-C reaches it once.
// Node's detached spawn calls setsid, which loses the terminal, so boxinit
// spawns its own executable as a short-lived helper that moves itself into a
// new process group, makes that group the foreground, and execs the command.
// Same pid throughout, so libuv still owns and reaps it.
import { loadNative } from "../native/addon.ts";
import { writeLine } from "../log/logger.ts";

/** Hidden argv[1] that turns the executable into the helper. */
export const FOREGROUND_HELPER_ARG = "__exec-foreground";

/** argv for spawning the helper: helper FILE ARGV0 ARGS... */
export const foregroundHelperArgs = (file: string, argv: readonly string[]): string[] => [
  FOREGROUND_HELPER_ARG,
  file,
  ...argv,
];

/** In the helper process: take the terminal, then become the command (never returns). */
export const runForegroundHelper = (args: readonly string[]): never => {
  const [file, argv0, ...rest] = args;
  if (file === undefined || argv0 === undefined) {
    writeLine(2, "boxinit: error: terminal: internal helper called without a command\n");
    process.exit(70);
  }
  const { native, failures } = loadNative();
  if (native) {
    try {
      native.enterForeground(0);
    } catch (error) {
      // No controlling terminal (a tty passed in without a session): run anyway.
      writeLine(2, `boxinit: warning: terminal: could not take the terminal's foreground: ${(error as Error).message}\n`);
    }
    native.resetSignalsForExec();
  } else {
    writeLine(2, `boxinit: warning: terminal: addon not loaded, job control unavailable: ${failures.join("; ")}\n`);
  }
  // The file was resolved and checked by the parent: execve failing here is
  // not expected, and Node aborts (SIGABRT) if it does.
  process.execve?.(file, [argv0, ...rest], process.env);
  writeLine(2, "boxinit: error: terminal: this Node runtime has no process.execve\n");
  return process.exit(70);
};

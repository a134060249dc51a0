// Starts the main command (`boxinit -- CMD ARGS`) in a process group of its
// own, so signals can be forwarded to everything it started, and reports how it
// ended. With a terminal on stdin the group also owns the terminal's foreground.
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { EXIT, type Ending } from "../pid1/exit-code.ts";
import { resolveCommand } from "../pid1/resolve-command.ts";
import { foregroundHelperArgs } from "../pid1/terminal.ts";

/** A running main command. */
export interface MainCommand {
  pid: number;
  /** Its process group: the target of forwarded signals. */
  pgid: number;
  /** Whether it owns the terminal's foreground (boxinit takes it back after). */
  ownsTerminal: boolean;
  ended: Promise<Ending>;
}

/** The command could not be started: the exit code says why (126/127). */
export interface StartFailure {
  exitCode: number;
}

/** Resolve and spawn the main command; never throws for a bad command. */
export const startMainCommand = (
  argv: readonly string[],
  native: Native | undefined,
  log: Logger,
): MainCommand | StartFailure => {
  const [command, ...args] = argv;
  const resolution = resolveCommand(command ?? "", process.env.PATH);
  if (!resolution.ok) {
    log.error("spawn-failed", `cannot run ${JSON.stringify(command)}: ${resolution.reason}`, { exitCode: resolution.exitCode });
    return { exitCode: resolution.exitCode };
  }
  const useTerminal = native !== undefined && native.isatty(0);
  let child: ChildProcess;
  try {
    child = useTerminal
      ? spawn(process.execPath, foregroundHelperArgs(resolution.file, argv), { stdio: "inherit" })
      : spawn(resolution.file, args, { argv0: command, stdio: "inherit", detached: true });
  } catch (error) {
    log.error("spawn-failed", `cannot run ${JSON.stringify(command)}: ${(error as Error).message}`);
    return { exitCode: EXIT.notExecutable };
  }
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports exec failures asynchronously through 'error'; the checks
    // above make this rare (a file removed between resolve and exec).
    child.on("error", () => {});
    log.error("spawn-failed", `cannot run ${JSON.stringify(command)}: the system refused to start it`);
    return { exitCode: EXIT.notFound };
  }
  const ended = new Promise<Ending>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  log.info("spawned", "started the main command", { pid, command: [...argv], terminal: useTerminal });
  return { pid, pgid: pid, ownsTerminal: useTerminal, ended };
};

// Starts the main command (`boxinit -- CMD ARGS`) in a process group of its
// own, so signals can be forwarded to everything it started, and reports how it
// ended. With a terminal on stdin the group also owns the terminal's foreground.
import { spawn } from "node:child_process";
import type { Logger } from "../log/logger.ts";
import type { Native, NativeError } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import { EXIT, type Ending } from "../pid1/exit-code.ts";
import { resolveCommand } from "../pid1/resolve-command.ts";
import { describeShortage } from "../pid1/resource-shortage.ts";
import { firstOwnFd } from "../pid1/own-fds.ts";
import { childEnvironment, withNodeEnvironment } from "../pid1/node-env.ts";
import { SIGNAL_NUMBERS } from "../pid1/signals.ts";
import { TERMINAL_FD, shouldHandOverTerminal } from "../pid1/terminal.ts";

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

// exec(2) errors as a shell reports them: 127 for "no such file", 126 for
// everything that found a file but could not run it; 71 (EX_OSERR) when
// boxinit itself was short of fds, processes or memory, which says nothing about the command.
const exitCodeForExecError = (code: string): number =>
  describeShortage(code) !== undefined ? EXIT.osError : code === "ENOENT" ? EXIT.notFound : EXIT.notExecutable;

/** Resolve and spawn the main command; never throws for a bad command. */
export const startMainCommand = (
  argv: readonly string[],
  preserveFds: number,
  native: Native | undefined,
  reaper: Reaper,
  log: Logger,
): MainCommand | StartFailure => {
  const [command = "", ...args] = argv;
  const fdProblem = preserveFds > 0 ? checkPreservedFds(preserveFds) : undefined;
  if (fdProblem) {
    log.error("usage", fdProblem);
    return { exitCode: EXIT.usage };
  }
  const resolution = resolveCommand(command, process.env.PATH);
  if (!resolution.ok) {
    log.error("spawn-failed", `cannot run ${JSON.stringify(command)}: ${resolution.reason}`, { exitCode: resolution.exitCode });
    return { exitCode: resolution.exitCode };
  }
  const started = native
    ? startWithAddon(resolution.file, argv, preserveFds, native, reaper)
    : startWithNode(resolution.file, command, args, preserveFds);
  if ("error" in started) {
    const exitCode = exitCodeForExecError(started.error);
    // The main command is started once (its end ends the container): a shortage is reported as what it is, not retried.
    const shortage = describeShortage(started.error);
    log.error("spawn-failed", `cannot run ${JSON.stringify(command)}: ${shortage ? `${shortage}; not the command's fault` : started.error}`, { exitCode });
    return { exitCode };
  }
  log.info("spawned", "started the main command", { pid: started.pid, command: [...argv], terminal: started.ownsTerminal });
  return started;
};

/**
 * --preserve-fds N is only honest when fds 3..3+N-1 were inherited: any gap
 * is filled by boxinit's own fds (libuv's epoll, io_uring, signal pipes,
 * eventfd), which the command must never get (see pid1/own-fds.ts).
 */
const checkPreservedFds = (count: number): string | undefined => {
  const firstOwn = firstOwnFd();
  if (firstOwn === undefined || firstOwn >= 3 + count) return undefined;
  const inherited = firstOwn <= 3 ? "no fd beyond stdio was inherited" : `only fds 3..${firstOwn - 1} were inherited`;
  return `--preserve-fds ${count}: fd ${firstOwn} is boxinit's own, ${inherited} (pass --preserve-fds ${Math.max(0, firstOwn - 3)}, or open the fds before starting boxinit)`;
};

// fork+exec in the addon: the child is the reaper's, which sees its raw wait
// status (Node's 'exit' reports code 0 for a death by real-time signal).
const startWithAddon = (file: string, argv: readonly string[], preserveFds: number, native: Native, reaper: Reaper): MainCommand | { error: string } => {
  const ownsTerminal = shouldHandOverTerminal(native);
  let pid: number;
  try {
    // spawnCommand passes boxinit's own (C) environment on: the Node variables go back in for it.
    pid = withNodeEnvironment(() => native.spawnCommand(file, argv, ownsTerminal ? TERMINAL_FD : -1, preserveFds));
  } catch (error) {
    return { error: (error as NativeError).code ?? (error as Error).message };
  }
  // Registered before this function returns: the reaper runs on this same
  // thread, so it cannot reap the child before the listener exists.
  const ended = new Promise<Ending>((resolve) => {
    const stop = reaper.onReaped((reapedPid, ending) => {
      if (reapedPid !== pid) return;
      stop();
      resolve(ending);
    });
  });
  return { pid, pgid: pid, ownsTerminal, ended };
};

// Without the addon: Node's spawn, detached (setsid) for a group of its own.
// No terminal foreground here: setsid gives up the terminal.
const startWithNode = (file: string, command: string, args: readonly string[], preserveFds: number): MainCommand | { error: string } => {
  const stdio: Array<"inherit" | number> = ["inherit", "inherit", "inherit", ...Array.from({ length: preserveFds }, (_, i) => i + 3)];
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(file, args, { argv0: command, stdio, detached: true, env: childEnvironment() });
  } catch (error) {
    // Node throws for some spawn errors (ENOMEM among them) rather than emitting 'error'.
    return { error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
  if (child.pid === undefined) {
    // spawn reports exec failures through 'error' (after this returns).
    child.on("error", () => {});
    return { error: "the system refused to start it" };
  }
  const ended = new Promise<Ending>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal: signal === null ? null : (SIGNAL_NUMBERS[signal] ?? null) }));
  });
  return { pid: child.pid, pgid: child.pid, ownsTerminal: false, ended };
};

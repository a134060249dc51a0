// Starts the main command (`boxinit -- CMD ARGS`) in a process group of its
// own, so signals can be forwarded to everything it started, and reports how it
// ended. With a terminal on stdin the group also owns the terminal's foreground.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { Ending } from "../pid1/exit-code.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { resolveCommand } from "../pid1/resolve-command.ts";
import { describeShortage } from "../pid1/resource-shortage.ts";
import { firstOwnFd } from "../pid1/own-fds.ts";
import { spawnProcess } from "../pid1/spawn.ts";
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

/** Resolve and spawn the main command; never throws for a bad command. */
export const startMainCommand = (
  argv: readonly string[],
  preserveFds: number,
  native: Native | undefined,
  reaper: Reaper,
  log: Logger,
): MainCommand | StartFailure => {
  const [command = ""] = argv;
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
  // With the addon the child is the reaper's, which sees its raw wait status
  // (Node's 'exit' reports code 0 for a death by real-time signal), and it may
  // take the terminal's foreground; its argv is boxinit's own, byte for byte,
  // and its environment boxinit's own (C) one.
  const ownsTerminal = native !== undefined && shouldHandOverTerminal(native);
  const spawned = spawnProcess({
    file: resolution.file, argv, leader: "group", stdin: "inherit", keepFds: preserveFds, isArgvFromCmdline: true,
    ...(ownsTerminal && { foregroundFd: TERMINAL_FD }),
  }, native ? { native, reaper } : undefined);
  if ("exitCode" in spawned) {
    // The main command is started once (its end ends the container): a shortage is reported as what it is, not retried.
    const shortage = describeShortage(spawned.code);
    const why = shortage ? `${shortage}; not the command's fault` : spawned.code ?? spawned.message;
    log.error("spawn-failed", `cannot run ${JSON.stringify(command)}: ${why}`, { exitCode: spawned.exitCode });
    return { exitCode: spawned.exitCode };
  }
  const started: MainCommand = { pid: spawned.pid, pgid: spawned.pid, ownsTerminal, ended: spawned.ended };
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

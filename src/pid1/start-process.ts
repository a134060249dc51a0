// How a configured process (a service, its stop command, a script, a warm-up
// check, a job, a hook) is started: its command resolved (relative to its
// cwd), its environment and user, in a session of its own with stdin
// /dev/null, through spawn.ts (the one fork path). Shortages of boxinit's own
// come back as "resources", never blamed on the command.
import { closeSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "./reaper.ts";
import type { ProcessOutput } from "./polled-pipe.ts";
import { EXIT, type Ending } from "./exit-code.ts";
import { resolveCommand } from "./resolve-command.ts";
import { shortageOf } from "./resource-shortage.ts";
import { childEnvironment } from "./node-env.ts";
import { spawnProcess, type Forker } from "./spawn.ts";

/** The user a process runs as (config/types.ts's UserSpec is one). */
export interface ProcessUser {
  name: string;
  uid: number;
  gid: number;
  /** Supplementary groups, set with the addon only. */
  groups: readonly number[];
  home: string;
}

/** What to start. */
export interface ProcessSpec {
  argv: readonly string[];
  /** Added to (and overriding) boxinit's own environment. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  user?: ProcessUser;
  /**
   * Where its stdout/stderr go: fds that are closed in boxinit after the
   * spawn; "pipe": one made for it, returned as Started.output (see
   * pid1/spawn.ts); undefined inherits.
   */
  output?: { outFd: number; errFd: number } | "pipe";
}

/** A started process: the leader of its own session and process group. */
export interface Started {
  pid: number;
  ended: Promise<Ending>;
  /** The read end of output "pipe". */
  output?: ProcessOutput;
}

/**
 * It could not be started. kind "command": the command is at fault, and
 * exitCode follows the shell (127 not found, 126 not executable); kind
 * "resources": boxinit ran short of fds, processes or memory (exitCode 71),
 * which says nothing about the command: try again later.
 */
export interface NotStarted {
  problem: string;
  exitCode: number;
  kind: "command" | "resources";
}

/** A NotStarted for an error that is a shortage of boxinit's resources; undefined for any other error. */
export const notStartedByShortage = (error: unknown, what: string): NotStarted | undefined => {
  const shortage = shortageOf(error);
  return shortage === undefined ? undefined : { problem: `${what}: ${shortage}`, exitCode: EXIT.osError, kind: "resources" };
};

/** The environment a process gets: boxinit's (with the Node variables given back), the user's identity, then its own. */
export const environmentFor = (spec: Pick<ProcessSpec, "env" | "user">, base: NodeJS.ProcessEnv = childEnvironment()): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  if (spec.user) {
    env.HOME = spec.user.home;
    env.USER = spec.user.name;
    env.LOGNAME = spec.user.name;
  }
  return { ...env, ...spec.env };
};

const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
};

/** Resolve and start a process; never throws for a bad command. */
export const startProcess = (spec: ProcessSpec, native: Native | undefined, reaper: Reaper): Started | NotStarted =>
  startProcessWith(spec, native ? { native, reaper } : undefined);

/** startProcess through the addon when forker is given, else through Node's spawn. */
export const startProcessWith = (spec: ProcessSpec, forker: Forker | undefined): Started | NotStarted => {
  try {
    const env = environmentFor(spec);
    const [command = ""] = spec.argv;
    // A relative name with a slash means "relative to the process's cwd", as for execve after chdir.
    const lookup = spec.cwd && command.includes("/") && !isAbsolute(command) ? join(spec.cwd, command) : command;
    const resolution = resolveCommand(lookup, env.PATH);
    if (!resolution.ok) return { problem: `${JSON.stringify(command)}: ${resolution.reason}`, exitCode: resolution.exitCode, kind: "command" };
    const started = spawnProcess({
      file: resolution.file, argv: spec.argv, env, leader: "session", stdin: "null", cwd: spec.cwd,
      output: spec.output, identity: identityToSet(spec.user),
    }, forker);
    if ("pid" in started) return started;
    // EMFILE and the like come from boxinit's side of the spawn (the pipes,
    // fork) or from a child that is boxinit's copy (its fd table): not the command's fault.
    const shortage = shortageOf(started);
    const what = started.call === "pipe2" ? `${JSON.stringify(command)}: its output pipe` : JSON.stringify(command);
    if (shortage !== undefined) return { problem: `${what}: ${shortage}`, exitCode: started.exitCode, kind: "resources" };
    return { problem: `${JSON.stringify(command)}: ${started.message}`, exitCode: started.exitCode, kind: "command" };
  } finally {
    if (spec.output && spec.output !== "pipe") {
      closeQuietly(spec.output.outFd);
      // One pipe may serve both: a second close could hit an fd reused meanwhile.
      if (spec.output.errFd !== spec.output.outFd) closeQuietly(spec.output.errFd);
    }
  }
};

// Only root changes identity; the config loader refuses another user for a
// non-root boxinit, so a non-root run keeps its own (setgroups would be EPERM).
const identityToSet = (user: ProcessUser | undefined): ProcessUser | undefined => (user && process.getuid?.() === 0 ? user : undefined);

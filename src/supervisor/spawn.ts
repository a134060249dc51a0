// Starts the processes of Mini-VM mode (services, their stop commands, init
// and finish scripts) in a session of their own, as their configured user, and
// reports how each ended. With the addon the child is the reaper's (raw wait
// status, supplementary groups); without it Node's spawn is the fallback.
import { spawn } from "node:child_process";
import { closeSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { UserSpec } from "../config/types.ts";
import { EXIT, type Ending } from "../pid1/exit-code.ts";
import { resolveCommand } from "../pid1/resolve-command.ts";
import { SIGNAL_NUMBERS } from "../pid1/signals.ts";
import { shortageOf } from "../pid1/resource-shortage.ts";
import { childEnvironment } from "../pid1/node-env.ts";

/** What to start. */
export interface ProcessSpec {
  argv: readonly string[];
  /** Added to (and overriding) boxinit's own environment. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  user?: UserSpec;
  /** Where its stdout/stderr go: fds that are closed in boxinit after the spawn; undefined inherits. */
  output?: { outFd: number; errFd: number };
}

/** A started process: the leader of its own session and process group. */
export interface Started {
  pid: number;
  ended: Promise<Ending>;
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
export const startProcess = (spec: ProcessSpec, native: Native | undefined, reaper: Reaper): Started | NotStarted => {
  try {
    const env = environmentFor(spec);
    const [command = "", ...args] = spec.argv;
    // A relative name with a slash means "relative to the process's cwd", as for execve after chdir.
    const lookup = spec.cwd && command.includes("/") && !isAbsolute(command) ? join(spec.cwd, command) : command;
    const resolution = resolveCommand(lookup, env.PATH);
    if (!resolution.ok) return { problem: `${JSON.stringify(command)}: ${resolution.reason}`, exitCode: resolution.exitCode, kind: "command" };
    return native
      ? startWithAddon(resolution.file, spec, env, native, reaper)
      : startWithNode(resolution.file, command, args, spec, env);
  } finally {
    if (spec.output) {
      closeQuietly(spec.output.outFd);
      // One pipe may serve both: a second close could hit an fd reused meanwhile.
      if (spec.output.errFd !== spec.output.outFd) closeQuietly(spec.output.errFd);
    }
  }
};

// Only root changes identity; the config loader refuses another user for a
// non-root boxinit, so a non-root run keeps its own (setgroups would be EPERM).
const identityToSet = (user: UserSpec | undefined): UserSpec | undefined => (user && process.getuid?.() === 0 ? user : undefined);

const startWithAddon = (file: string, spec: ProcessSpec, env: Record<string, string>, native: Native, reaper: Reaper): Started | NotStarted => {
  const user = identityToSet(spec.user);
  let pid: number;
  try {
    pid = native.spawnService({
      file,
      argv: spec.argv,
      env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      cwd: spec.cwd,
      uid: user?.uid,
      gid: user?.gid,
      groups: user?.groups,
      outFd: spec.output?.outFd,
      errFd: spec.output?.errFd,
    });
  } catch (error) {
    // EMFILE and the like come from boxinit's side of the spawn (the report
    // pipe, fork) or from a child that is boxinit's copy (its fd table): not the command's fault.
    const shortage = notStartedByShortage(error, JSON.stringify(spec.argv[0]));
    if (shortage) return shortage;
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    return { problem: `${JSON.stringify(spec.argv[0])}: ${message}`, exitCode: code === "ENOENT" && message.startsWith("exec") ? EXIT.notFound : EXIT.notExecutable, kind: "command" };
  }
  // Registered before returning: the reaper runs on this thread, so it cannot
  // have reaped the child yet.
  const ended = new Promise<Ending>((resolve) => {
    const stop = reaper.onReaped((reapedPid, ending) => {
      if (reapedPid !== pid) return;
      stop();
      resolve(ending);
    });
  });
  return { pid, ended };
};

// Node's spawn cannot set supplementary groups (libuv calls setgroups(0, NULL)):
// without the addon a service runs with its user's primary group only.
const startWithNode = (file: string, command: string, args: readonly string[], spec: ProcessSpec, env: Record<string, string>): Started | NotStarted => {
  const stdio: Array<"ignore" | "inherit" | number> = spec.output ? ["ignore", spec.output.outFd, spec.output.errFd] : ["ignore", "inherit", "inherit"];
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(file, args, { argv0: command, stdio, detached: true, cwd: spec.cwd, env, uid: identityToSet(spec.user)?.uid, gid: identityToSet(spec.user)?.gid });
  } catch (error) {
    // Node throws for some spawn errors (ENOMEM among them) instead of emitting 'error'.
    const shortage = notStartedByShortage(error, JSON.stringify(command));
    if (shortage) return shortage;
    return { problem: `${JSON.stringify(command)}: ${(error as Error).message}`, exitCode: EXIT.notExecutable, kind: "command" };
  }
  if (child.pid === undefined) {
    // Node reports the errno only later, through 'error': without the addon a refusal cannot be told apart here.
    child.on("error", () => {});
    return { problem: `${JSON.stringify(command)}: the system refused to start it`, exitCode: EXIT.notExecutable, kind: "command" };
  }
  const ended = new Promise<Ending>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal: signal === null ? null : (SIGNAL_NUMBERS[signal] ?? null) }));
  });
  return { pid: child.pid, ended };
};

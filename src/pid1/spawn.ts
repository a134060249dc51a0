// THE fork path: every process boxinit starts (the main command, services and
// their stop commands, scripts, warm-up checks, jobs, hooks) is started here.
// With the addon: forkExec (native/fork-exec.c), and the child is the reaper's,
// which sees its raw wait status (real-time signals, supplementary groups, the
// terminal's foreground). Without it: Node's spawn, and the child is libuv's.
import type { ChildProcess } from "node:child_process";
import { closeSync } from "node:fs";
import type { ForkSpec, Native } from "../native/addon.ts";
import { nodeChildProcess, type Reaper } from "./reaper.ts";
import { EXIT, type Ending } from "./exit-code.ts";
import { describeShortage } from "./resource-shortage.ts";
import { SIGNAL_NUMBERS } from "./signals.ts";
import { childEnvironment, withNodeEnvironment } from "./node-env.ts";
import { readChildOutput, type ProcessOutput } from "./polled-pipe.ts";

/** The addon and the reaper that owns what it forks (the parts of them used here). */
export interface Forker {
  native: Pick<Native, "forkExec" | "makePipe" | "setNonBlocking">;
  reaper: Pick<Reaper, "onReaped">;
}

/** Whom the child runs as (only root can change it). */
export interface Identity {
  uid: number;
  gid: number;
  /** Supplementary groups: set by the addon only (libuv calls setgroups(0, NULL)). */
  groups: readonly number[];
}

/** What to start. */
export interface SpawnRequest {
  /** The file to exec, already resolved (resolve-command.ts). */
  file: string;
  argv: readonly string[];
  /** The child's whole environment; undefined: boxinit's own, with the Node variables given back. */
  env?: Readonly<Record<string, string>>;
  /**
   * "session": setsid, no controlling terminal (services, checks, scripts, jobs,
   * hooks: none may take the terminal from an interactive main command, nor get
   * its ^C); "group": a process group of its own in boxinit's session (the main
   * command). Node's spawn can only setsid: without the addon both are a session.
   */
  leader: "session" | "group";
  /** With the addon: the terminal whose foreground the new group takes (a "group" only). */
  foregroundFd?: number;
  /** fds 3..3+keepFds-1 are inherited (--preserve-fds). */
  keepFds?: number;
  /** Where stdin comes from. */
  stdin: "null" | "inherit";
  /**
   * stdout and stderr: undefined inherits boxinit's; fds are given as they
   * are (the caller closes them after); "pipe" makes one, returned as
   * `output`: with the addon stdout and stderr both go into it, with Node's
   * spawn only stderr (stdout goes to /dev/null).
   */
  output?: { outFd: number; errFd: number } | "pipe";
  cwd?: string;
  identity?: Identity;
  /** With the addon: argv is boxinit's own last argv.length arguments, byte for byte (the main command). */
  isArgvFromCmdline?: boolean;
}

/** A started process: it leads its own process group (and with "session" its session). */
export interface Spawned {
  pid: number;
  ended: Promise<Ending>;
  /** The read end of output "pipe"; the caller reads and destroys it. */
  output?: ProcessOutput;
}

/** It could not be started: why, and the exit code a shell would give. */
export interface SpawnFailure {
  /** The step that failed: pipe2, exec, chdir, setuid, stdio (the addon's), spawn (Node's). */
  call: string;
  /** The errno's name, when one is known. */
  code: string | undefined;
  message: string;
  /** 127 not found, 126 found but not runnable, 71 (EX_OSERR) boxinit short of fds, processes or memory. */
  exitCode: number;
}

/** exec(2) errors as a shell reports them; a shortage of boxinit's own says nothing about the command. */
export const exitCodeForFailure = (call: string, code: string | undefined): number => {
  if (describeShortage(code) !== undefined) return EXIT.osError;
  return call === "exec" && code === "ENOENT" ? EXIT.notFound : EXIT.notExecutable;
};

const failure = (call: string, code: string | undefined, message: string): SpawnFailure =>
  ({ call, code, message, exitCode: exitCodeForFailure(call, code) });

const failureOf = (error: unknown, call: string): SpawnFailure => {
  const { syscall, code, message } = error as { syscall?: unknown; code?: unknown; message?: unknown };
  return failure(typeof syscall === "string" ? syscall : call, typeof code === "string" ? code : undefined, String(message ?? error));
};

/** Start a process; never throws for a command that cannot run. */
export const spawnProcess = (request: SpawnRequest, forker: Forker | undefined): Spawned | SpawnFailure =>
  forker ? forkWithAddon(request, forker) : spawnWithNode(request);

const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
};

const forkWithAddon = (request: SpawnRequest, { native, reaper }: Forker): Spawned | SpawnFailure => {
  let pipe: [number, number] | undefined;
  if (request.output === "pipe") {
    try {
      pipe = native.makePipe();
    } catch (error) {
      return failureOf(error, "pipe2");
    }
  }
  const output = pipe ? { outFd: pipe[1], errFd: pipe[1] } : request.output === "pipe" ? undefined : request.output;
  const spec: ForkSpec = {
    file: request.file,
    argv: request.argv,
    ...(request.env && { env: Object.entries(request.env).map(([key, value]) => `${key}=${value}`) }),
    argvFromCmdline: request.isArgvFromCmdline ?? false,
    newSession: request.leader === "session",
    foregroundFd: request.foregroundFd,
    keepFds: request.keepFds,
    stdinNull: request.stdin === "null",
    outFd: output?.outFd,
    errFd: output?.errFd,
    cwd: request.cwd,
    uid: request.identity?.uid,
    gid: request.identity?.gid,
    groups: request.identity?.groups,
  };
  let pid: number;
  try {
    // Without env the child gets boxinit's C environment: the Node variables go back in for it.
    pid = request.env ? native.forkExec(spec) : withNodeEnvironment(() => native.forkExec(spec));
  } catch (error) {
    if (pipe) closeQuietly(pipe[0]);
    return failureOf(error, "exec");
  } finally {
    if (pipe) closeQuietly(pipe[1]);
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
  return { pid, ended, ...(pipe && { output: readChildOutput(pipe[0], native, ended) }) };
};

type NodeStdio = "ignore" | "inherit" | "pipe" | number;

const nodeStdio = (request: SpawnRequest): NodeStdio[] => {
  const output: NodeStdio[] = request.output === undefined ? ["inherit", "inherit"]
    : request.output === "pipe" ? ["ignore", "pipe"] : [request.output.outFd, request.output.errFd];
  const kept = Array.from({ length: request.keepFds ?? 0 }, (_, i) => i + 3);
  return [request.stdin === "null" ? "ignore" : "inherit", ...output, ...kept];
};

// detached: setsid, a session and process group of its own (so no terminal
// foreground without the addon). Node's spawn cannot set supplementary groups:
// the child runs with its user's primary group only.
const spawnWithNode = (request: SpawnRequest): Spawned | SpawnFailure => {
  const [command = "", ...args] = request.argv;
  let child: ChildProcess;
  try {
    child = nodeChildProcess().spawn(request.file, args, {
      argv0: command, stdio: nodeStdio(request), detached: true, cwd: request.cwd,
      env: request.env ?? childEnvironment(), uid: request.identity?.uid, gid: request.identity?.gid,
    });
  } catch (error) {
    // Node throws for some spawn errors (ENOMEM among them) instead of emitting 'error'.
    return failureOf(error, "spawn");
  }
  if (child.pid === undefined) {
    // Node reports the errno only later, through 'error': a refusal cannot be told apart here.
    child.on("error", () => {});
    return failure("spawn", undefined, "the system refused to start it");
  }
  const ended = new Promise<Ending>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal: signal === null ? null : (SIGNAL_NUMBERS[signal] ?? null) }));
  });
  return { pid: child.pid, ended, ...(request.output === "pipe" && child.stderr && { output: child.stderr }) };
};

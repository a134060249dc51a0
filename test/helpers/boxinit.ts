// Runs the built dist/boxinit the way it is used: as PID 1 of a fresh PID
// namespace (unshare --pid --fork --mount-proc, needs root) or as a child
// subreaper, and its side commands (status, health) beside a run. Waits on
// output markers with deadlines, never fixed sleeps, and kills every process
// tree it started in teardown.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CapturedRun, type Ended } from "./captured-run.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const BOXINIT = join(ROOT, "dist/boxinit");
export const FIXTURES = join(ROOT, "build/fixtures");
export const fixture = (name: string): string => join(FIXTURES, name);

export type Mode = "pid1" | "subreaper";
export const MODES: readonly Mode[] = ["pid1", "subreaper"];

/** Why a mode cannot run here, or undefined when it can. Tests fail on it, never skip. */
export const missingPrerequisite = (mode: Mode): string | undefined => {
  if (!existsSync(BOXINIT)) return `${BOXINIT} is missing: run "make" first`;
  if (!existsSync(join(FIXTURES, "signal-echo"))) return `${FIXTURES} is missing: run "make fixtures" first`;
  if (mode === "pid1" && process.getuid?.() !== 0) {
    return "PID 1 tests need root for unshare --pid --fork --mount-proc: run them as root (sudo make test)";
  }
  return undefined;
};

export type { Ended };

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdin?: "ignore" | "pipe";
  /**
   * A program (and its arguments) that sets something up and then execs
   * boxinit in its place, e.g. a seccomp filter: boxinit keeps its pid (PID 1).
   */
  execThrough?: readonly string[];
}

/** A started boxinit with captured output. */
export class BoxinitRun extends CapturedRun {
  readonly mode: Mode;

  constructor(mode: Mode, args: readonly string[], options: StartOptions = {}) {
    const command = [...(options.execThrough ?? []), BOXINIT, ...args];
    const argv = mode === "pid1" ? ["--pid", "--fork", "--mount-proc", ...command] : command.slice(1);
    // tap's own loader options must not reach the binary under test; a test's own may.
    const env = { ...process.env, NODE_OPTIONS: undefined, ...options.env };
    super(spawn(mode === "pid1" ? "unshare" : command[0]!, argv, {
      cwd: options.cwd,
      env,
      stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
    }), RUNNING);
    this.mode = mode;
  }

  /** Resolve once stdout or stderr matches; reject at the deadline, or at the end of the run, with what was seen. */
  waitFor(pattern: RegExp, stream: "stdout" | "stderr" = "stdout", timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return this.waitUntil(() => this[stream].match(pattern), timeoutMs, (why) =>
      `${why === "ended" ? `the run ended without ${pattern} on ${stream}` : `timed out waiting for ${pattern} on ${stream}`}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
  }

  /** boxinit's own pid as the host sees it (unshare's child in PID 1 mode). */
  async boxinitPid(timeoutMs = 5000): Promise<number> {
    const outer = this.child.pid!;
    if (this.mode === "subreaper") return outer;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const children = readChildren(outer);
      if (children.length > 0) return children[0]!;
      await sleep(10);
    }
    throw new Error("unshare did not start boxinit");
  }

  /** Send a signal to boxinit itself. */
  async signal(name: NodeJS.Signals): Promise<void> {
    process.kill(await this.boxinitPid(), name);
  }

  /** Wait for the end, failing after timeoutMs. */
  result(timeoutMs = 20_000): Promise<Ended> {
    return this.endWithin(timeoutMs, () => `boxinit did not exit within ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
  }
}

const RUNNING = new Set<CapturedRun>();

/** Kill every run still alive: call from a teardown. */
export const killAllRuns = (): void => {
  for (const run of RUNNING) run.kill();
};

export const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

const readChildren = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** Start boxinit in a mode with the given arguments. */
export const startBoxinit = (mode: Mode, args: readonly string[], options?: StartOptions): BoxinitRun =>
  new BoxinitRun(mode, args, options);

/** Run to the end and return the result with output. */
export const runBoxinit = async (
  mode: Mode,
  args: readonly string[],
  options?: StartOptions & { timeoutMs?: number },
): Promise<Ended & { stdout: string; stderr: string }> => {
  const run = startBoxinit(mode, args, options);
  const ended = await run.result(options?.timeoutMs);
  return { ...ended, stdout: run.stdout, stderr: run.stderr };
};

/**
 * A side command of dist/boxinit (status, health, --version, ...) run to its
 * end beside a run, not as PID 1; env is added to this process's environment.
 */
export const boxinitTool = (args: readonly string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } => {
  const result = spawnSync(BOXINIT, args, { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: undefined, ...env }, timeout: 10_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

/** boxinit's pid as its own status.json reports it: 1 in its PID namespace, else the host pid. */
export const ownPid = async (run: BoxinitRun): Promise<number> => (run.mode === "pid1" ? 1 : run.boxinitPid());

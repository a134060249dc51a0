// Init scripts (before services) and finish scripts (after them): every
// executable regular file of a directory, in lexical order, one at a time.
import { accessSync, constants, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import { exitCodeFor, type Ending } from "../pid1/exit-code.ts";
import { SERVICE_DEFAULTS } from "../config/defaults.ts";
import { formatDurationMs } from "../config/duration.ts";
import { monotonicMs, pause } from "../time/clock.ts";
import { describeEnding, nextRestartDelayMs } from "./restart-policy.ts";
import { startProcess, type NotStarted, type Started } from "../pid1/start-process.ts";

/** The scripts to run: executable regular files in byte order; a missing directory has none. */
export const listScripts = (dir: string, log: Logger): string[] => {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") log.warn("init-script", `cannot read ${dir}: ${(error as Error).message}`);
    return [];
  }
  // Byte order, not locale order: the same sequence on every machine (as run-parts does).
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const scripts: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      scripts.push(file);
    } catch {
      log.debug("init-script", `skipping ${file}: not an executable file`);
    }
  }
  return scripts;
};

/** How one script went. */
export type ScriptResult = { file: string; ending: Ending } | { file: string; problem: string; exitCode: number };

/**
 * Run scripts one after another until one fails (non-zero, signal, cannot
 * start) or isCancelled says so; `onStart` sees each started process so a stop can bound it.
 */
export const runScripts = async (
  scripts: readonly string[],
  context: { native: Native | undefined; reaper: Reaper; log: Logger; kind: "init" | "finish"; shouldContinueAfterFailure?: boolean },
  onStart: (started: Started) => void = () => {},
  isCancelled: () => boolean = () => false,
): Promise<ScriptResult | undefined> => {
  const event = context.kind === "init" ? "init-script" : "finish-script";
  for (const file of scripts) {
    if (isCancelled()) return undefined;
    const started = await startWhenResourcesAllow(file, context, isCancelled);
    if (started === undefined) return undefined;
    if ("problem" in started) {
      context.log.error(event, `${context.kind} script ${file}: cannot start: ${started.problem}`);
      if (context.shouldContinueAfterFailure) continue;
      return { file, problem: started.problem, exitCode: started.exitCode };
    }
    context.log.info(event, `running ${context.kind} script ${file}`, { pid: started.pid });
    onStart(started);
    const ending = await started.ended;
    if (ending.code === 0) continue;
    // Finish scripts all run (as in s6-overlay): one failing is logged, not fatal to the rest.
    if (!context.shouldContinueAfterFailure) return { file, ending };
    context.log.warn(event, `${context.kind} script ${file} ${describeEnding(ending)}`, { code: exitCodeFor(ending) });
  }
  return undefined;
};

// How often a wait for resources looks whether it was cancelled (a stop began, the finish time is up).
const CANCEL_POLL_MS = 100;

/**
 * Start a script; when boxinit is short of fds, processes or memory (not the
 * script's fault), say so and try again after the default restart delay,
 * doubled per try up to its cap, until it starts or isCancelled (then undefined).
 */
const startWhenResourcesAllow = async (
  file: string,
  context: { native: Native | undefined; reaper: Reaper; log: Logger; kind: "init" | "finish" },
  isCancelled: () => boolean,
): Promise<Started | NotStarted | undefined> => {
  for (let tries = 0; ; tries++) {
    const started = startProcess({ argv: [file] }, context.native, context.reaper);
    if (!("problem" in started) || started.kind !== "resources") return started;
    const delayMs = nextRestartDelayMs(tries, SERVICE_DEFAULTS.restartDelayMs, SERVICE_DEFAULTS.restartMaxDelayMs);
    context.log.warn("spawn-deferred", `${context.kind} script ${file}: cannot start it now: ${started.problem}; not the script's fault: trying again in ${formatDurationMs(delayMs)}`, { attempt: tries + 1 });
    const until = monotonicMs() + delayMs;
    while (monotonicMs() < until) {
      if (isCancelled()) return undefined;
      await pause(Math.min(CANCEL_POLL_MS, until - monotonicMs()));
    }
    if (isCancelled()) return undefined;
  }
};

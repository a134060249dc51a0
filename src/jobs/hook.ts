// The on_failure hook: a command run after a failed job, with the details in
// its environment (BOXINIT_JOB, BOXINIT_EXIT_CODE, BOXINIT_SIGNAL,
// BOXINIT_LOG_FILE, BOXINIT_HOSTNAME, BOXINIT_RUN_ID), e.g. to send an alert.
// It is bounded in time, its output goes where boxinit's goes, and its own
// failure is logged without changing the job's exit code.
import { formatDurationMs } from "../config/duration.ts";
import { exitCodeFor } from "../pid1/exit-code.ts";
import { signalGroup } from "../pid1/send-signal.ts";
import { SIGNAL_NUMBERS } from "../pid1/signals.ts";
import { monotonicMs } from "../time/clock.ts";
import { startProcess } from "../pid1/start-process.ts";
import { escapeControls } from "../control/backoff.ts";
import { killGroupAt, type Running } from "./job-process.ts";
import type { JobContext } from "./types.ts";

/** How long the hook may run: SIGTERM at timeoutMs, SIGKILL killGraceMs later. */
export interface HookBound {
  timeoutMs: number;
  killGraceMs: number;
}

/**
 * Run the hook to its end (or its bound); resolves to its exit code, never
 * throws. onStart hands its process to the caller, so a stop can reach it.
 */
export const runHook = async (
  command: readonly string[], env: Record<string, string>, bound: HookBound, context: JobContext, onStart: (hook: Running) => void,
): Promise<number> => {
  const { native, reaper, log } = context;
  const job = escapeControls(env.BOXINIT_JOB ?? "");
  const started = startProcess({ argv: command, env }, native, reaper);
  if (!("pid" in started)) {
    log.warn("job-hook", `on_failure hook of job ${job} could not start: ${started.problem}`, { job });
    return started.exitCode;
  }
  const hook: Running = { pid: started.pid, isDone: false };
  onStart(hook);
  const timeout = setTimeout(() => {
    log.warn("job-hook", `on_failure hook of job ${job} still running after ${formatDurationMs(bound.timeoutMs)}: SIGTERM`, { job, pid: started.pid });
    signalGroup(started.pid, SIGNAL_NUMBERS.SIGTERM!);
    killGroupAt(hook, monotonicMs() + bound.killGraceMs);
  }, bound.timeoutMs);
  const ending = await started.ended;
  hook.isDone = true;
  clearTimeout(timeout);
  clearTimeout(hook.killTimer);
  const code = exitCodeFor(ending);
  if (code === 0) log.info("job-hook", `on_failure hook of job ${job} ran`, { job });
  else log.warn("job-hook", `on_failure hook of job ${job} failed (exit ${code}); the job's exit code stands`, { job, code });
  return code;
};

// One run's process: spawn with output pipes, pass the output through while
// capturing it, the timeout (SIGTERM, then SIGKILL), and what the run leaves in
// its process group. The harness (run-job.ts) decides everything around it.
import { closeSync } from "node:fs";
import type { Ending } from "../pid1/exit-code.ts";
import { killGroup, signalGroup } from "../pid1/send-signal.ts";
import { readProcTable } from "../pid1/proc-table.ts";
import { SIGNAL_NUMBERS } from "../pid1/signals.ts";
import { formatDurationMs } from "../config/duration.ts";
import { escapeControls } from "../control/backoff.ts";
import { monotonicMs, pause, settleBefore } from "../time/clock.ts";
import { notStartedByShortage, startProcess, type NotStarted } from "../pid1/start-process.ts";
import { readChildOutput } from "../pid1/polled-pipe.ts";
import type { Native } from "../native/addon.ts";
import type { OutputCapture } from "./capture.ts";
import type { Passthrough } from "./passthrough.ts";
import type { JobContext, JobSpec } from "./types.ts";

// After the job ends, its output pipes may still hold its last lines; a
// background process it left may also keep them open for ever.
const OUTPUT_DRAIN_MS = 1000;

/** The job's process once started; the harness and stop() share it. */
export interface Running {
  pid: number;
  isDone: boolean;
  killTimer?: NodeJS.Timeout;
  /** monotonicMs() at which killTimer fires. */
  killAt?: number;
}

/** What the harness and stop() share: the processes, and the stop's deadline once asked. */
export interface RunState {
  running?: Running;
  /** The on_failure hook while it runs: a stop reaches it too. */
  hook?: Running;
  /** monotonicMs() by which everything of this run must be over (a stop was asked for). */
  stopUntil?: number;
}

/** SIGKILL to the job's group at `at`, unless one is due sooner already (a timeout's). */
export const killGroupAt = (running: Running, at: number): void => {
  if (running.killAt !== undefined && running.killAt <= at) return;
  clearTimeout(running.killTimer);
  running.killAt = at;
  running.killTimer = setTimeout(() => killGroup(running.pid), Math.max(0, at - monotonicMs()));
};

/** The time left before the stop's deadline, capped at ms (all of ms when no stop was asked for). */
export const within = (state: RunState, ms: number): number =>
  state.stopUntil === undefined ? ms : Math.max(0, Math.min(ms, state.stopUntil - monotonicMs()));

// A job name from the command line may hold newlines: never let it forge log lines.
export const shown = (spec: JobSpec): string => escapeControls(spec.name);

interface OutputReader {
  done: Promise<void>;
  close: () => void;
  /** Stop capturing but keep passing output through until the pipe ends, without keeping boxinit alive. */
  detach: () => void;
}

/**
 * Read one output pipe to its end: pass through, capture. Polled until the
 * job has run for a poll's time, then a socket (pid1/polled-pipe.ts): a short
 * job's end does not wait for node:net to load.
 */
const readOutput = (fd: number, to: 1 | 2, capture: OutputCapture, passthrough: Passthrough, native: Native, ended: Promise<unknown>): OutputReader => {
  const socket = readChildOutput(fd, native, ended, { streamAfterFirstPoll: true });
  let isCapturing = true;
  const done = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      passthrough.write(to, chunk);
      if (isCapturing) capture.add(chunk);
    });
    socket.on("end", resolve);
    socket.on("close", resolve);
    // A read error on our own pipe ends the capture; the job is unaffected.
    socket.on("error", resolve);
  });
  return {
    done,
    close: () => socket.destroy(),
    detach: () => {
      isCapturing = false;
      socket.unref();
    },
  };
};

export interface Ran {
  ending?: Ending;
  /** When the job's own process ended (monotonicMs and wall clock), before its leftovers were stopped. */
  endedMs?: number;
  endedAt?: Date;
  /** Set when it could not be started: 126/127 and why. */
  notStarted?: { problem: string; exitCode: number };
  timedOut: boolean;
  captureNote?: string;
}

const GROUP_POLL_MS = 50;

/** Live members of a process group as /proc shows them (0 also when /proc is not this namespace's). */
const groupMembers = (pgid: number): number => readProcTable().filter((entry) => entry.pgrp === pgid && entry.state !== "Z").length;

/** Anyone left in the group: kill(-pgid, 0), zombies included (the reaper clears ours at once). */
const isGroupAlive = (pgid: number): boolean => signalGroup(pgid, 0) !== "gone";

/**
 * The job's leader has ended: what it left in its process group (a `cmd &`
 * nobody waited for) gets SIGTERM (and SIGCONT, should it be stopped) and the
 * grace period, then SIGKILL, so it cannot outlive the run and overlap the
 * next one. A stop asked for meanwhile shortens the wait. Processes that left
 * the group (setsid) are the caller's to stop: `boxinit job` stops everything left.
 */
const stopGroupLeft = async (spec: JobSpec, context: JobContext, pgid: number, state: RunState): Promise<void> => {
  if (!isGroupAlive(pgid)) return;
  const left = groupMembers(pgid);
  if (left > 0) context.log.info("job", `job ${shown(spec)} ended with ${left} process${left === 1 ? "" : "es"} of its group still running: SIGTERM`, { job: spec.name, pgid });
  signalGroup(pgid, SIGNAL_NUMBERS.SIGTERM!);
  signalGroup(pgid, SIGNAL_NUMBERS.SIGCONT!);
  const graceEnd = monotonicMs() + within(state, spec.killGraceMs);
  while (isGroupAlive(pgid)) {
    if (monotonicMs() >= Math.min(graceEnd, state.stopUntil ?? Infinity)) {
      for (const entry of killGroup(pgid)) context.log.warn("killed", "sent SIGKILL", { job: spec.name, pid: entry.pid, comm: entry.comm });
      return;
    }
    await pause(GROUP_POLL_MS);
  }
};

type OutputPipes = { out: [number, number]; err: [number, number] };

/**
 * The job's stdout and stderr pipes. Out of fds (EMFILE, ENFILE) the job is
 * not started, its own fault it is not (issue 13, bug 2): a NotStarted of kind
 * "resources", with the pipe already made closed again. Any other error throws.
 */
const openOutputPipes = (native: Native): OutputPipes | NotStarted => {
  const made: number[] = [];
  try {
    const out = native.makePipe();
    made.push(...out);
    return { out, err: native.makePipe() };
  } catch (error) {
    for (const fd of made) closeSync(fd);
    const shortage = notStartedByShortage(error, "its output pipes");
    if (!shortage) throw error;
    return shortage;
  }
};

/** Spawn the command and wait for its end, the timeout, and its output. */
export const runCommandOf = async (spec: JobSpec, context: JobContext, runId: string, capture: OutputCapture, state: RunState): Promise<Ran> => {
  const { native, reaper, log } = context;
  const pipes = native ? openOutputPipes(native) : undefined;
  if (pipes && "problem" in pipes) return { notStarted: pipes, timedOut: false };
  const started = startProcess({
    argv: spec.command,
    env: { ...spec.env, BOXINIT_JOB: spec.name, BOXINIT_RUN_ID: runId },
    ...(spec.cwd !== undefined && { cwd: spec.cwd }),
    ...(spec.user !== undefined && { user: spec.user }),
    ...(pipes && { output: { outFd: pipes.out[1], errFd: pipes.err[1] } }),
  }, native, reaper);
  // Not started: no end to wait for; the readers are closed below.
  const ended = "pid" in started ? started.ended : Promise.resolve();
  const readers = pipes && native
    ? [readOutput(pipes.out[0], 1, capture, spec.passthrough, native, ended), readOutput(pipes.err[0], 2, capture, spec.passthrough, native, ended)]
    : [];
  const captureNote = pipes ? undefined : "not captured: the addon boxinit.node is not loaded";
  if (!("pid" in started)) {
    for (const reader of readers) reader.close();
    return { notStarted: started, timedOut: false, ...(captureNote && { captureNote }) };
  }
  const running: Running = { pid: started.pid, isDone: false };
  state.running = running;
  // A stop asked for while the spawn was on its way: it applies now.
  if (state.stopUntil !== undefined) {
    signalGroup(started.pid, SIGNAL_NUMBERS.SIGTERM!);
    killGroupAt(running, state.stopUntil);
  }
  log.info("job", `job ${shown(spec)} started`, { job: spec.name, run: runId, pid: started.pid });
  let timedOut = false;
  const timeout = spec.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    log.warn("job-failed", `job ${shown(spec)} timed out after ${formatDurationMs(spec.timeoutMs!)}: SIGTERM, SIGKILL after ${formatDurationMs(spec.killGraceMs)}`, { job: spec.name, pid: started.pid });
    signalGroup(started.pid, SIGNAL_NUMBERS.SIGTERM!);
    killGroupAt(running, monotonicMs() + spec.killGraceMs);
  }, spec.timeoutMs);
  const ending = await started.ended;
  const endedMs = monotonicMs();
  const endedAt = new Date();
  running.isDone = true;
  clearTimeout(timeout);
  clearTimeout(running.killTimer);
  await stopGroupLeft(spec, context, started.pid, state);
  const drained = await settleBefore(Promise.all(readers.map((reader) => reader.done)), monotonicMs() + within(state, OUTPUT_DRAIN_MS));
  if (drained === undefined) {
    // Closing the pipe would kill a process the job left with SIGPIPE at its
    // next write, e.g. while it cleans up on the TERM that stops it: keep
    // reading (passed through, no longer captured) until it lets go.
    log.debug("job", "output still open after the job ended (a process it left holds it): capture closed", { job: spec.name });
    for (const reader of readers) reader.detach();
  } else {
    for (const reader of readers) reader.close();
  }
  spec.passthrough.flush();
  return { ending, endedMs, endedAt, timedOut, ...(captureNote && { captureNote }) };
};


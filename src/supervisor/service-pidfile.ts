// A pidfile service: its start command forks the daemon and exits 0, the
// daemon's pid comes from the pidfile. Whether that pid may be trusted (a
// stale or hostile file could name boxinit or a stranger), and following the
// daemon to its end. Reading the file is pidfile.ts's; PidfileReader is what
// this module uses of it and of /proc, which tests replace with a fake.
import type { Logger } from "../log/logger.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { ServiceConfig } from "../config/types.ts";
import { EXIT, type Ending } from "../pid1/exit-code.ts";
import { liveDescendants, readProcEntry } from "../pid1/proc-table.ts";
import { formatDurationMs } from "../config/duration.ts";
import { monotonicMs, settleBefore } from "../time/clock.ts";
import { describeEnding } from "./restart-policy.ts";
import { isProcessAlive, pidfileIdentity, waitForPidfile, type PidfileIdentity, type PidfileResult, type PidfileWait } from "./pidfile.ts";
import type { Target } from "./service-stop.ts";

// A followed daemon that is not boxinit's child (so never reaped here) is
// noticed gone by polling its pid this often.
const FOLLOW_POLL_MS = 1000;

/** What following a daemon reads: the pidfile (pidfile.ts) and /proc. */
export interface PidfileReader {
  identity: (path: string) => PidfileIdentity | undefined;
  waitFor: (path: string, timeoutMs: number, wait: PidfileWait) => Promise<PidfileResult>;
  /** Why the pid must not be followed, or undefined when it may (pidfileRefusal). */
  refusal: (pid: number) => string | undefined;
  /** The process group to signal for the pid (groupOf). */
  groupOf: (pid: number) => number | undefined;
  /** Whether the pid is boxinit's own child (the reaper then reports its end). */
  isOurChild: (pid: number) => boolean;
  isAlive: (pid: number) => boolean;
}

/** The process group to signal for a pid: its own group, unless that is boxinit's. */
export const groupOf = (pid: number): number | undefined => {
  const entry = readProcEntry(pid);
  const own = readProcEntry("self");
  if (entry && entry.pgrp > 1 && entry.pgrp !== own?.pgrp && entry.pgrp !== process.pid) return entry.pgrp;
  return undefined;
};

/**
 * Why a pid read from a pidfile must not be followed, or undefined when it may:
 * a stale or hostile pidfile could name boxinit itself, its own process group,
 * or a process that has nothing to do with this container (subreaper mode),
 * which a stop would then signal. A daemon the start command forked is always
 * boxinit's descendant: it is re-parented to boxinit (PID 1 or subreaper).
 */
export const pidfileRefusal = (pid: number): string | undefined => {
  if (pid === process.pid) return `it names boxinit itself (pid ${pid})`;
  const own = readProcEntry("self");
  if (own && readProcEntry(pid)?.pgrp === own.pgrp) return `pid ${pid} is in boxinit's own process group`;
  if (!liveDescendants().some((entry) => entry.pid === pid)) return `pid ${pid} is not a process started by this service (not a descendant of boxinit)`;
  return undefined;
};

/** The real one: pidfile.ts and /proc. */
export const PIDFILE_READER: PidfileReader = {
  identity: pidfileIdentity,
  waitFor: waitForPidfile,
  refusal: pidfileRefusal,
  groupOf,
  isOurChild: (pid) => readProcEntry(pid)?.ppid === process.pid,
  isAlive: isProcessAlive,
};

/** A start command while it runs. */
export interface Starter {
  pid: number;
  ended: Promise<Ending>;
}

/** What following a daemon needs from its service. */
export interface DaemonStart {
  config: Pick<ServiceConfig, "name" | "pidfileTimeoutMs">;
  context: { log: Logger; reaper: Pick<Reaper, "onReaped"> };
  reader: PidfileReader;
  /** The run's abort: a stop ends the wait. */
  signal: AbortSignal;
  /** Whether the service is still starting (a stop or an exit may have come meanwhile). */
  isStarting: () => boolean;
  /** The start command is what there is to stop (undefined: no longer). */
  holdStarter: (starter: Starter | undefined) => void;
  /** The start did not come up: the service stops what it left, then its restart policy decides. */
  fail: (problem: string, ending: Ending) => void;
}

/** The daemon to follow: its pid, the group its signals go to, its end. */
export interface Daemon extends Target {
  ended: Promise<Ending>;
}

const abortedOf = (signal: AbortSignal): Promise<undefined> =>
  new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });

/**
 * Wait for the start command, then the pidfile it wrote; the daemon to follow,
 * or undefined when the start failed (start.fail was called) or a stop came.
 * Processes reaped meanwhile are remembered, so a daemon that dies before its
 * pidfile is read still reports its real ending.
 */
export const awaitDaemon = async (start: DaemonStart, pidfile: string, before: PidfileIdentity | undefined, starter: Starter): Promise<Daemon | undefined> => {
  const { reader } = start;
  const { log } = start.context;
  const service = start.config.name;
  const reaped = new Map<number, Ending>();
  const stopCollecting = start.context.reaper.onReaped((pid, ending) => reaped.set(pid, ending));
  const fail = (problem: string, ending: Ending = { code: EXIT.unavailable, signal: null }): undefined => {
    log.error("pidfile", `service ${service}: ${problem}`, { service });
    start.fail(`service ${service}: ${problem}`, ending);
    return undefined;
  };
  try {
    start.holdStarter(starter);
    const timeout = formatDurationMs(start.config.pidfileTimeoutMs);
    const startDeadline = monotonicMs() + start.config.pidfileTimeoutMs;
    const startEnding = await settleBefore(Promise.race([starter.ended, abortedOf(start.signal)]), startDeadline);
    if (!start.isStarting()) return undefined;
    if (startEnding === undefined) {
      // Still this service's to stop: the failed start sends it TERM (after the stop command), not SIGKILL.
      return fail(`the start command did not exit within pidfile_timeout (${timeout}): a pidfile service's command must fork and exit (a foreground command needs no pidfile:)`);
    }
    start.holdStarter(undefined);
    if (startEnding.code !== 0) return fail(`the start command ${describeEnding(startEnding)}`, startEnding);
    // One deadline covers the start command and the wait: name the setting, not the time left.
    const found = await reader.waitFor(pidfile, Math.max(0, startDeadline - monotonicMs()), {
      before,
      signal: start.signal,
      timeoutLabel: `pidfile_timeout (${timeout}, counted from the start command's launch)`,
    });
    if (!start.isStarting()) return undefined;
    if ("problem" in found) return fail(found.problem);
    const refusal = reaped.has(found.pid) ? undefined : reader.refusal(found.pid);
    if (refusal) return fail(`pidfile ${pidfile} cannot be followed: ${refusal}`);
    log.info("pidfile", `service ${service}: following pid ${found.pid} from ${pidfile}`, { service, pid: found.pid });
    const early = reaped.get(found.pid);
    return { pid: found.pid, pgid: reader.groupOf(found.pid), ended: early ? Promise.resolve(early) : daemonEnded(start, found.pid) };
  } finally {
    stopCollecting();
  }
};

// The daemon was re-parented to boxinit (PID 1 or subreaper), so the reaper
// sees its exit; the poll covers a daemon that somehow is not our child.
const daemonEnded = (start: DaemonStart, pid: number): Promise<Ending> => {
  const { reader } = start;
  const { reaper, log } = start.context;
  const service = start.config.name;
  // Our child: the reaper reports its end, no need to look every second.
  const isOurChild = reader.isOurChild(pid);
  return new Promise((resolve) => {
    const poll = isOurChild ? undefined : setInterval(() => {
      if (reader.isAlive(pid)) return;
      finish();
      log.warn("child-exited", `service ${service}: pid ${pid} is gone but was not boxinit's child: its exit status is unknown`, { service });
      resolve({ code: 1, signal: null });
    }, FOLLOW_POLL_MS);
    const stopListening = reaper.onReaped((reapedPid, ending) => {
      if (reapedPid !== pid) return;
      finish();
      resolve(ending);
    });
    const finish = (): void => {
      clearInterval(poll);
      stopListening();
    };
  });
};

// What a start that did not come up left behind, and stopping it within a
// budget. A daemonizing start (catalina.sh start, pg_ctl start) forks and may
// leave a daemon running although boxinit never learnt its pid (a wrong
// pidfile path, a start that never returned); left alone it makes every retry
// fail ("Tomcat appears to still be running") and outlives the box's stop
// order. Everything found gets the service's stop signal and its share of the
// budget; SIGKILL comes only at the deadline, and the log names both.
import type { Logger } from "../log/logger.ts";
import { descendantsOf, hasEnvironmentEntry, liveDescendants, type ProcEntry } from "../pid1/proc-table.ts";
import { signalProcess } from "../pid1/send-signal.ts";
import { signalLabel } from "../pid1/signals.ts";
import { monotonicMs, pause } from "../time/clock.ts";
import { isProcessAlive } from "./pidfile.ts";

/**
 * Set in the environment of a service's start and stop commands: a daemon
 * that left the start's session (setsid) still carries it, which is how a
 * failed start's leftovers are found without a cgroup.
 */
export const SERVICE_MARKER_VARIABLE = "BOXINIT_SERVICE";

/** The environment entry that marks a service's processes. */
export const serviceMarker = (service: string): string => `${SERVICE_MARKER_VARIABLE}=${service}`;

// SIGKILL's number (Linux): a literal keeps the signal table out of this module's imports.
const SIGKILL = 9;
const WAIT_POLL_MS = 20;

/** Where a start's processes may be found: its session, and the marker its processes inherit. */
export interface StartTrace {
  /** The start command's pid: leader of its own session and process group. */
  starterPid: number;
  service: string;
  /** The process the service followed, when it got that far (its environment may not show the marker). */
  followedPid?: number;
}

/**
 * Which of boxinit's live descendants a start left behind: the process it
 * followed, members of the start command's session or process group,
 * processes that carry the service's marker, and everything descending from those.
 */
export const attributeLeftovers = (
  descendants: readonly ProcEntry[],
  trace: StartTrace,
  hasMarker: (pid: number) => boolean,
): ProcEntry[] => {
  const found = new Map<number, ProcEntry>();
  for (const entry of descendants) {
    const isSeed = entry.pid === trace.followedPid || entry.session === trace.starterPid || entry.pgrp === trace.starterPid || hasMarker(entry.pid);
    if (isSeed) found.set(entry.pid, entry);
  }
  for (const seed of [...found.values()]) {
    for (const entry of descendantsOf(seed.pid, descendants)) found.set(entry.pid, entry);
  }
  return [...found.values()].filter((entry) => entry.state !== "Z");
};

/** The live leftovers of a start, read from /proc now. */
export const findLeftovers = (trace: StartTrace): ProcEntry[] => {
  const marker = serviceMarker(trace.service);
  return attributeLeftovers(liveDescendants(), trace, (pid) => hasEnvironmentEntry(pid, marker));
};

/** "pid 12 (java), pid 40 (sh)" for the log. */
export const describeProcesses = (entries: readonly ProcEntry[]): string =>
  entries.map((entry) => `pid ${entry.pid} (${entry.comm})`).join(", ");

/** A deadline that a stop arriving meanwhile can bring forward. */
export interface MovableDeadline {
  at: number;
}

/** What stopping the leftovers did. */
export interface LeftoversOutcome {
  signalled: ProcEntry[];
  killed: ProcEntry[];
}

/**
 * Send `signal` to each leftover, wait until they are gone or the deadline,
 * then SIGKILL whatever is left then (scanned again: it may have forked).
 */
export const stopLeftovers = async (
  trace: StartTrace,
  signal: number,
  deadline: MovableDeadline,
  log: Logger,
): Promise<LeftoversOutcome> => {
  const found = findLeftovers(trace);
  if (found.length === 0) return { signalled: [], killed: [] };
  log.warn("leftovers", `service ${trace.service}: stopping what the failed start left behind: ${describeProcesses(found)} (${signalLabel(signal)} now, SIGKILL at the deadline)`, {
    service: trace.service,
    pids: found.map((entry) => entry.pid),
  });
  for (const entry of found) signalProcess(entry.pid, signal);
  // Progress, not a fixed sleep: the wait ends as soon as the last one is gone.
  while (found.some((entry) => isProcessAlive(entry.pid)) && monotonicMs() < deadline.at) {
    await pause(Math.min(WAIT_POLL_MS, Math.max(0, deadline.at - monotonicMs())));
  }
  const left = findLeftovers(trace);
  if (left.length === 0) return { signalled: found, killed: [] };
  for (const entry of left) signalProcess(entry.pid, SIGKILL);
  log.warn("phase-overran", `service ${trace.service}: killed what the failed start left behind (still there at the deadline): ${describeProcesses(left)}`, {
    service: trace.service,
    pids: left.map((entry) => entry.pid),
  });
  return { signalled: found, killed: left };
};

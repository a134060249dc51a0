// Sending signals: to a process group, and to "everything left", which means
// all of the PID namespace when boxinit is its PID 1, and only boxinit's own
// descendants when it is a subreaper (kill(-1) there would hit the whole host).
import { liveDescendants, type ProcEntry } from "./proc-table.ts";

/** Outcome of one kill(2). */
export type SendResult = "sent" | "gone" | "denied";

const sendRaw = (target: number, signal: number): SendResult => {
  try {
    process.kill(target, signal);
    return "sent";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: it exited already, the normal race at shutdown; not an error.
    if (code === "ESRCH") return "gone";
    if (code === "EPERM") return "denied";
    throw error;
  }
};

/**
 * Signal a process group. The group exists from the moment spawn returns (the
 * addon calls setpgid from both sides of the fork; Node's detached spawn calls
 * setsid before exec), so ESRCH means it is gone: no fallback to the leader's
 * pid, which may by then belong to another process.
 */
export const signalGroup = (pgid: number, signal: number): SendResult => sendRaw(-pgid, signal);

/** Signal one process by pid (ESRCH: gone, not an error). */
export const signalProcess = (pid: number, signal: number): SendResult => sendRaw(pid, signal);

// SIGKILL's number (Linux): a literal keeps the signal table out of this module.
const SIGKILL = 9;

/** SIGKILL a process group; returns who was in it, for the log. */
export const killGroup = (pgid: number): ProcEntry[] => {
  const members = liveDescendants().filter((entry) => entry.pgrp === pgid);
  signalGroup(pgid, SIGKILL);
  return members;
};

/** Who "everything left" is. */
export type KillScope = "namespace" | "descendants";

/** PID 1 owns its namespace; anything else only its own subtree. */
export const killScopeFor = (pid: number): KillScope => (pid === 1 ? "namespace" : "descendants");

/**
 * Signal everything left in scope; returns who was there (for the log).
 * In a namespace kill(-1) reaches every process but PID 1 atomically, which
 * also catches processes forked between a scan and the kills.
 */
export const signalEverythingLeft = (scope: KillScope, signal: number): ProcEntry[] => {
  const targets = liveDescendants();
  if (scope === "namespace") {
    sendRaw(-1, signal);
    return targets;
  }
  for (const entry of targets) sendRaw(entry.pid, signal);
  return targets;
};

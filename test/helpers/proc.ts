// Watching processes from outside through /proc: a process's state letter
// (T: stopped), its parent, its children, the signals it catches; and a
// poll-with-deadline for conditions no output announces.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface ProcStat {
  /** R, S, D, T (stopped), t (traced), Z (zombie), ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** The foreground process group of its controlling terminal (-1: none). */
  tpgid: number;
}

/** /proc/PID/stat, or undefined when the process is gone (reaped). */
export const procStat = (pid: number): ProcStat | undefined => {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]), tpgid: Number(fields[5]) };
};

/** Whether pid is stopped (by a stop signal, not traced). */
export const isStopped = (pid: number): boolean => procStat(pid)?.state === "T";

/** Gone, or a zombie nobody has reaped yet: it runs no more. */
export const isGone = (pid: number): boolean => {
  const stat = procStat(pid);
  return stat === undefined || stat.state === "Z" || stat.state === "X";
};

/** The children of pid (its main thread's). */
export const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** /proc/PID/comm. */
export const commOf = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
};

/** Whether pid has a handler for signal (SigCgt in /proc/PID/status); undefined when gone. */
export const catchesSignal = (pid: number, signal: number): boolean | undefined => {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const mask = status.match(/^SigCgt:\s*([0-9a-f]+)$/m)?.[1];
  if (mask === undefined) return undefined;
  return ((BigInt(`0x${mask}`) >> BigInt(signal - 1)) & 1n) === 1n;
};

/** A pid that belongs to no process now: a child that has exited and been reaped (reuse within a test is vanishingly unlikely). */
export const deadPid = (): number => Number(spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());

/** Poll until check() holds; reject at the deadline, naming what was awaited. */
export const waitUntil = async (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((wake) => setTimeout(wake, 10));
  }
};

/** The promise's value, or a rejection naming what was awaited once timeoutMs has passed. */
export const withinDeadline = async <T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting until ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

// Shared by the control and state-directory command tests: a logger that
// records, fresh temp directories, waiting on a condition with a deadline,
// and captured command output.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger, formatText, type Level } from "../../src/log/logger.ts";
import type { CommandIo } from "../../src/modes/side.ts";

export interface RecordedLog {
  log: Logger;
  lines: string[];
  /** Lines at a level ("warn", "info", ...). */
  at(level: Level): string[];
}

/** A trace-level logger whose lines are kept in memory. */
export const recordingLogger = (): RecordedLog => {
  const entries: Array<{ level: Level; line: string }> = [];
  const log = new Logger({ write: (level, event, message, fields) => entries.push({ level, line: formatText(level, event, message, fields) }) }, "trace");
  return {
    log,
    get lines() {
      return entries.map((entry) => entry.line);
    },
    at: (level) => entries.filter((entry) => entry.level === level).map((entry) => entry.line),
  };
};

/** A fresh directory, removed in teardown. */
export const tempDir = (t: { teardown(fn: () => void): void }, prefix = "boxinit-control-"): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** Resolves once check() is true; rejects with what was awaited at the deadline. */
export const waitFor = async (what: string, check: () => boolean, deadlineMs = 5000): Promise<number> => {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > deadlineMs) throw new Error(`timed out after ${deadlineMs}ms waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 2));
  }
  return performance.now() - start;
};

/** A fixed "now" for the commands' age arithmetic. */
export const NOW = Date.parse("2026-11-26T10:10:00.000Z");

/** Captured output of one command run. */
export const captureIo = (nowMs = NOW): CommandIo & { out: string; err: string } => {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
    nowMs: () => nowMs,
  };
  return io;
};

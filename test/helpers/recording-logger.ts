// A logger whose lines are kept in memory, for tests that assert what
// boxinit's own code logged (the real Logger and text format, no processes).
import { Logger, formatText, type Level } from "../../src/log/logger.ts";

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

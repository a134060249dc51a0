// boxinit's own lifecycle log: one line per event on stderr, written
// synchronously because PID 1 can be killed at any moment. Text by default;
// JSON through pino, loaded only when asked for.
import { writeSync } from "node:fs";
import type { LogEvent } from "./events.ts";
import { loadLibrary } from "../lazy/loader.ts";
import { activeSink } from "./output-sink.ts";

export type LogFormat = "text" | "json";
export type Level = "error" | "warn" | "info" | "debug" | "trace";

const LEVEL_RANK: Record<Level, number> = { error: 50, warn: 40, info: 30, debug: 20, trace: 10 };

/** Extra key/values of an event; printed as key=value in text form. */
export type Fields = Record<string, string | number | boolean | undefined | readonly (string | number)[]>;

/** A sink that receives events already filtered by level. */
export interface Sink {
  write(level: Level, event: LogEvent, message: string, fields: Fields): void;
}

/** The logger every module receives; cheap to call when the level is off. */
export class Logger {
  readonly #minRank: number;
  #sink: Sink;
  constructor(sink: Sink, minLevel: Level) {
    this.#sink = sink;
    this.#minRank = LEVEL_RANK[minLevel];
  }
  /** Whether a level would print: lets hot paths skip building fields. */
  isEnabled(level: Level): boolean {
    return LEVEL_RANK[level] >= this.#minRank;
  }
  log(level: Level, event: LogEvent, message: string, fields: Fields = {}): void {
    if (LEVEL_RANK[level] < this.#minRank) return;
    this.#sink.write(level, event, message, fields);
  }
  error(event: LogEvent, message: string, fields?: Fields): void { this.log("error", event, message, fields); }
  warn(event: LogEvent, message: string, fields?: Fields): void { this.log("warn", event, message, fields); }
  info(event: LogEvent, message: string, fields?: Fields): void { this.log("info", event, message, fields); }
  debug(event: LogEvent, message: string, fields?: Fields): void { this.log("debug", event, message, fields); }
  trace(event: LogEvent, message: string, fields?: Fields): void { this.log("trace", event, message, fields); }
}

/** Verbosity flags (-q, -v, -vv) to the lowest level printed. */
export const levelForVerbosity = (verbosity: number): Level => {
  if (verbosity < 0) return "warn";
  if (verbosity === 0) return "info";
  if (verbosity === 1) return "debug";
  return "trace";
};

const formatValue = (value: Fields[string]): string => {
  if (Array.isArray(value)) return JSON.stringify(value);
  const text = String(value);
  return /^[\w./:@+,-]*$/.test(text) && text !== "" ? text : JSON.stringify(text);
};

/** `boxinit: event: message key=value ...`; warnings and errors say so first. */
export const formatText = (level: Level, event: LogEvent, message: string, fields: Fields): string => {
  const prefix = level === "warn" ? "warning: " : level === "error" ? "error: " : "";
  let line = `boxinit: ${prefix}${event}: ${message}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
  }
  return `${line}\n`;
};

// A partly written line must be finished, or the next one is glued to it
// (broken JSON); a stderr pipe that stays full this long loses the rest.
const PARTIAL_LINE_WAIT_MS = 100;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes bytes to a file descriptor and never throws: a closed or full
 * stderr must not kill PID 1. Bytes that cannot start (EAGAIN on a full
 * non-blocking pipe, EPIPE, ENOSPC) are dropped at once; a write that has
 * started waits up to 100 ms for the rest. While services' output is relayed
 * to fd, the bytes go through the relay's sink (output-sink.ts): after the
 * batch being written, never into the middle of a service's line.
 */
export const writeBytes = (fd: number, bytes: Uint8Array): void => {
  const sink = activeSink(fd);
  if (sink) {
    sink.writeWhole(bytes);
    return;
  }
  let written = 0;
  let waitedMs = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written);
    } catch (error) {
      const isBusy = (error as NodeJS.ErrnoException).code === "EAGAIN";
      if (!isBusy || written === 0 || waitedMs >= PARTIAL_LINE_WAIT_MS) return;
      Atomics.wait(pause, 0, 0, 1);
      waitedMs += 1;
    }
  }
};

/** writeBytes for a whole line of text. */
export const writeLine = (fd: number, line: string): void => writeBytes(fd, Buffer.from(line));

/** The default sink: text lines on a file descriptor. */
export const textSink = (fd = 2): Sink => ({
  write: (level, event, message, fields) => writeLine(fd, formatText(level, event, message, fields)),
});

/** JSON lines through pino with a synchronous destination (transports crash when bundled). */
export const jsonSink = async (fd = 2): Promise<Sink> => {
  const { default: pino } = await loadLibrary("pino");
  // Not pino.destination: its sonic-boom retries EAGAIN forever (a full,
  // non-blocking stderr pipe would freeze PID 1) and buffers without bound
  // after other errors. writeLine drops the line instead.
  const destination = { write: (line: string) => writeLine(fd, line) };
  const logger = pino(
    // No pid in the base: events carry the pid of their subject under that key.
    { base: { name: "boxinit" }, level: "trace", timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
  return {
    write: (level, event, message, fields) => {
      try {
        logger[level]({ event, ...fields }, message);
      } catch {
        // As in writeLine: the event is lost, PID 1 lives on.
      }
    },
  };
};

/** Build the logger for a format and verbosity. */
export const createLogger = async (format: LogFormat, verbosity: number): Promise<Logger> => {
  const sink = format === "json" ? await jsonSink() : textSink();
  return new Logger(sink, levelForVerbosity(verbosity));
};

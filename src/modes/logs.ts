// `boxinit logs [SERVICE] [-n N] [-f]`: a service's log files (log_files:),
// inside the container or from the host on the bind-mounted state directory;
// `boxinit host logs BOOK` runs showLogs on the book's home. Prints the tail
// across the rotated files (control/log-read.ts), then with -f follows
// (control/log-follow.ts) until SIGINT or SIGTERM, which end it with 0.
import { writeSync } from "node:fs";
import { join } from "node:path";
import { writeLine } from "../log/logger.ts";
import { GLOBAL_DEFAULTS, LOG_FILES_DEFAULTS } from "../config/defaults.ts";
import { loadConfig } from "../config/load.ts";
import type { DirHandle } from "../control/dir-handle.ts";
import { LogFollower } from "../control/log-follow.ts";
import { openLogDir } from "../control/log-dir.ts";
import { closeLogs, copyRange, findTail, openServiceLogs, servicesWithLogs } from "../control/log-read.ts";
import { loadNative } from "../native/addon.ts";
import { takeCommonOptions } from "../cli/common-options.ts";
import { LOGS_EXIT, LOGS_USAGE, parseLogsArgs, type LogsArgs } from "../cli/logs.ts";

/** Where the lines go; tests substitute it. */
export interface LogsIo {
  /** Bytes of the log; false once the reader is gone (a closed pipe). */
  out(bytes: Buffer): boolean;
  stderr(text: string): void;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** stdout, whole: a full non-blocking pipe is waited for, a closed one (EPIPE: `| head`) ends the command. */
export const processLogsIo: LogsIo = {
  out: (bytes) => {
    for (let written = 0; written < bytes.length;) {
      try {
        written += writeSync(1, bytes, written);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return false;
        Atomics.wait(pause, 0, 0, 5);
      }
    }
    return true;
  },
  stderr: (text) => writeLine(2, text),
};

/** The log directory's place for one run: DIR, and the state directory it may be in (levels below it are not followed). */
export interface LogPlace {
  dir: string;
  stateDir: string;
}

/** The state directory's default log directory. */
export const defaultLogPlace = (stateDir: string): LogPlace => ({ dir: join(stateDir, LOG_FILES_DEFAULTS.dirInStateDir), stateDir });

const openForReading = (place: LogPlace, io: LogsIo): DirHandle | undefined => {
  try {
    return openLogDir(place.dir, place.stateDir, loadNative().native, false);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist (no service has written a log file there: is log_files: set?)" : (error as Error).message;
    io.stderr(`boxinit logs: ${place.dir}: ${why}\n`);
    return undefined;
  }
};

/** Print the tail (and with -f follow) of one service's log, or list the services with one; returns the exit code. */
export const showLogs = async (place: LogPlace, args: LogsArgs, io: LogsIo, stop: AbortSignal): Promise<number> => {
  const dir = openForReading(place, io);
  if (!dir) return LOGS_EXIT.failed;
  try {
    if (args.service === undefined) {
      const names = servicesWithLogs(dir);
      io.out(Buffer.from(names.map((name) => `${name}\n`).join("")));
      if (names.length === 0) io.stderr(`boxinit logs: no log files in ${place.dir}\n`);
      return LOGS_EXIT.shown;
    }
    const files = openServiceLogs(dir, args.service);
    if (files.length === 0 && !args.isFollowing) {
      io.stderr(`boxinit logs: ${args.service}: no log file ${join(place.dir, `${args.service}.log`)} (services with one: ${servicesWithLogs(dir).join(", ") || "none"})\n`);
      return LOGS_EXIT.failed;
    }
    const range = findTail(files, args.lines);
    const isOpen = copyRange(files, range, io.out);
    const newest = files.pop();
    closeLogs(files);
    if (!args.isFollowing || !isOpen) {
      if (newest) closeLogs([newest]);
      return LOGS_EXIT.shown;
    }
    const follower = new LogFollower(dir, args.service, { file: newest, offset: range.end }, io.out, (warning) => io.stderr(`boxinit logs: warning: ${warning}\n`));
    try {
      return (await follower.watchUntil(stop)) ? LOGS_EXIT.shown : LOGS_EXIT.failed;
    } finally {
      follower.close();
    }
  } catch (error) {
    io.stderr(`boxinit logs: ${args.service ?? place.dir}: ${(error as Error).message}\n`);
    return LOGS_EXIT.failed;
  } finally {
    dir.close();
  }
};

/** An AbortSignal that SIGINT and SIGTERM fire: -f ends with 0 on either. */
export const stopOnSignals = (): AbortSignal => {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
};

// --log-dir, else STATE_DIR/logs/services with --state-dir (the host's view
// of the state directory), else the config's log_files.dir (inside the container).
const resolvePlace = async (args: LogsArgs, stateDir: string | undefined, configPath: string | undefined, io: LogsIo): Promise<LogPlace> => {
  if (args.logDir) return { dir: args.logDir, stateDir: stateDir ?? args.logDir };
  if (stateDir) return defaultLogPlace(stateDir);
  const loaded = await loadConfig({ path: configPath, env: process.env });
  if (loaded.ok) return { dir: loaded.config.logFiles?.dir ?? defaultLogPlace(loaded.config.stateDir).dir, stateDir: loaded.config.stateDir };
  const fallback = process.env.BOXINIT_STATE_DIR?.startsWith("/") ? process.env.BOXINIT_STATE_DIR : GLOBAL_DEFAULTS.stateDir;
  io.stderr(`boxinit logs: warning: config: ${loaded.source ?? "the configuration"} does not load (see "boxinit check"): using ${defaultLogPlace(fallback).dir}\n`);
  return defaultLogPlace(fallback);
};

/** `boxinit logs ...` (argv after the verb, --state-dir and --config included); returns the exit code. */
export const logsCommand = async (argv: readonly string[], io: LogsIo = processLogsIo): Promise<number> => {
  const options = takeCommonOptions(argv);
  const args = options.errors.length > 0 ? { error: options.errors.join("; ") } : parseLogsArgs(options.rest);
  if (args === "help") {
    io.out(Buffer.from(LOGS_USAGE));
    return LOGS_EXIT.shown;
  }
  if ("error" in args) {
    io.stderr(`boxinit logs: usage: ${args.error}\n${LOGS_USAGE}`);
    return LOGS_EXIT.usage;
  }
  const place = await resolvePlace(args, options.stateDir, options.configPath, io);
  return showLogs(place, args, io, args.isFollowing ? stopOnSignals() : new AbortController().signal);
};

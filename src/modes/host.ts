// `boxinit host VERB BOOK [options]`: the host-side tool, as a run. Parses
// the command line (cli/host.ts), loads the book, connects to the engine only
// when the verb needs it, and turns every failure into one line on stderr and
// its exit code. No PID 1 duties: it runs on the Docker host.
import { writeLine } from "../log/logger.ts";
import { loadBook } from "../host/book.ts";
import type { Book } from "../host/book-types.ts";
import { DEFAULT_BACKOFF_WAIT_MS, backoffBook } from "../host/backoff.ts";
import { dockerRunLine } from "../host/container-spec.ts";
import { cronBook } from "../host/cron.ts";
import { connectEngine } from "../host/engine.ts";
import { formatHostError, HOST_EXIT, HostError } from "../host/errors.ts";
import { stdoutOutput, type HostOutput } from "../host/output.ts";
import { heldError, lockBook } from "../host/book-lock.ts";
import { promoteBook, rollbackBook } from "../host/promote.ts";
import { kubeBook } from "../host/kube.ts";
import { runBook } from "../host/run.ts";
import { formatHostStatus, hostStatus, statusExitCode } from "../host/status.ts";
import { HOST_USAGE, parseHostArgs, type HostArgs } from "../cli/host.ts";
import { HOST_LOGS_USAGE, parseHostLogsArgs } from "../cli/logs.ts";
import { defaultLogPlace, processLogsIo, showLogs, stopOnSignals } from "./logs.ts";

const loadBookOrReport = async (path: string): Promise<Book | undefined> => {
  const result = await loadBook(path);
  if (!result.ok) {
    const count = `${result.errors.length} problem${result.errors.length === 1 ? "" : "s"}`;
    writeLine(2, `boxinit host: book: ${path}: ${count}; nothing was done\n`);
    for (const error of result.errors) writeLine(2, `  ${error}\n`);
    return undefined;
  }
  for (const warning of result.warnings) writeLine(2, `boxinit host: warning: book: ${warning}\n`);
  return result.book;
};

// The verbs that change the container hold the book's lock. An overlapping
// cron line is normal (the previous one is still starting): it says so, exit 0.
const withBookLock = async (args: HostArgs, book: Book, out: HostOutput, work: () => Promise<number>): Promise<number> => {
  const taken = lockBook(book, args.verb, out);
  if ("heldBy" in taken) {
    if (args.verb === "run") throw heldError(book, taken.heldBy);
    out.say(`${book.name}: another boxinit host command is at work on this book (${taken.heldBy}): nothing to do`);
    return HOST_EXIT.ok;
  }
  try {
    return await work();
  } finally {
    taken.lock?.release();
  }
};

const runVerb = async (args: HostArgs, book: Book): Promise<number> => {
  const out = stdoutOutput(args.verb);
  if (args.verb === "run" && args.flags.has("--dry-run")) {
    writeLine(1, `${dockerRunLine(book)}\n`);
    return HOST_EXIT.ok;
  }
  if (args.verb === "backoff" && !args.flags.has("--wait")) return await backoffBook(undefined, book, out, args.word!, undefined);
  // kube asks the engine only when --image and --config do not say it all.
  if (args.verb === "kube") return await kubeBook(book, args, async () => await connectEngine(process.env), out);
  const engine = await connectEngine(process.env);
  switch (args.verb) {
    case "run":
    case "cron":
      return await withBookLock(args, book, out, async () =>
        args.verb === "run" ? await runBook(engine, book, out) : await cronBook(engine, book, out, args.flags.has("--run")));
    case "promote":
      return args.flags.has("--rollback") ? await rollbackBook(engine, book, out) : await promoteBook(engine, book, out);
    case "status": {
      const report = await hostStatus(engine, book, Date.now());
      writeLine(1, args.flags.has("--json") ? `${JSON.stringify(report, null, 2)}\n` : formatHostStatus(book, report, Date.now()));
      return statusExitCode(report);
    }
    case "backoff":
      return await backoffBook(engine, book, out, args.word!, args.timeoutMs ?? DEFAULT_BACKOFF_WAIT_MS);
  }
};

// `host logs BOOK [SERVICE] [-n N] [-f]`: the book's home is the state
// directory's host side; the files are read there, without the engine.
const hostLogs = async (argv: readonly string[]): Promise<number> => {
  const parsed = parseHostLogsArgs(argv);
  if (parsed === "help") {
    writeLine(1, HOST_LOGS_USAGE);
    return HOST_EXIT.ok;
  }
  if ("error" in parsed) {
    writeLine(2, `boxinit host: ${parsed.error}\n${HOST_LOGS_USAGE}`);
    return HOST_EXIT.usage;
  }
  const book = await loadBookOrReport(parsed.bookPath);
  if (book === undefined) return HOST_EXIT.usage;
  const stop = parsed.args.isFollowing ? stopOnSignals() : new AbortController().signal;
  return await showLogs(defaultLogPlace(book.home), parsed.args, processLogsIo, stop);
};

/** `boxinit host ...`; returns the exit code. */
export const hostMode = async (argv: readonly string[]): Promise<number> => {
  if (argv[0] === "logs") return await hostLogs(argv.slice(1));
  const args = parseHostArgs(argv);
  if (args === "help") {
    writeLine(1, HOST_USAGE);
    return HOST_EXIT.ok;
  }
  if (typeof args === "string") {
    writeLine(2, `boxinit host: ${args}\n${HOST_USAGE}`);
    return HOST_EXIT.usage;
  }
  const book = await loadBookOrReport(args.bookPath);
  if (book === undefined) return HOST_EXIT.usage;
  try {
    return await runVerb(args, book);
  } catch (error) {
    if (!(error instanceof HostError)) throw error;
    writeLine(2, formatHostError(error));
    return error.exitCode;
  }
};

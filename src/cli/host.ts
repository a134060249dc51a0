// `boxinit host VERB BOOK [options]`: the host-side tool. Parses the command
// line, loads the book, connects to the engine only when the verb needs it,
// and turns every failure into one line on stderr and its exit code.
import { writeLine } from "../log/logger.ts";
import { parseDurationMs } from "../config/duration.ts";
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
import { runBook } from "../host/run.ts";
import { formatHostStatus, hostStatus, statusExitCode } from "../host/status.ts";

export const HOST_USAGE = `usage: boxinit host VERB BOOK [options]

  run BOOK [--dry-run]      create and start NAME-production from IMAGE:run
                            (--dry-run: print the equivalent docker run line)
  promote BOOK [--rollback] tag IMAGE:latest as IMAGE:run, keeping the old one
                            as IMAGE:previous (--rollback: swap run and previous)
  cron BOOK [--run]         the cron wrapper: running or backoff -> nothing;
                            exited 0 -> remove; failed -> save logs, remove;
                            --run: then start the next run
  status BOOK [--json]      the container and the state directory (exit 3: not running)
  backoff BOOK on|off [--wait] [--timeout D]
                            write HOME/backoff; --wait: until status is backedoff

The engine: DOCKER_HOST, else /var/run/docker.sock.
Exit codes: 0 ok, 1 failed, 2 usage or bad book, 3 already running (run) /
not running (status), 4 backoff engaged (run), 5 --wait timed out,
10 no engine, 11 permission denied, 12 image not found, 13 name conflict,
14 port in use.
`;

/** Each verb's flags; a flag not listed for the verb is a usage error. */
const VERB_FLAGS = {
  run: ["--dry-run"],
  promote: ["--rollback"],
  cron: ["--run"],
  status: ["--json"],
  backoff: ["--wait"],
} as const;

type Verb = keyof typeof VERB_FLAGS;

export interface HostArgs {
  verb: Verb;
  bookPath: string;
  flags: Set<string>;
  /** backoff: on|off */
  word?: "on" | "off";
  /** backoff --timeout */
  timeoutMs?: number;
}

const isVerb = (word: string | undefined): word is Verb => word !== undefined && Object.hasOwn(VERB_FLAGS, word);

/** Parse `host` argv (pure); a string is the usage error to print. */
export const parseHostArgs = (argv: readonly string[]): HostArgs | "help" | string => {
  if (argv.length === 0 || argv.includes("-h") || argv.includes("--help")) return "help";
  const [verb, ...rest] = argv;
  if (!isVerb(verb)) return `unknown verb ${JSON.stringify(verb)}: expected ${Object.keys(VERB_FLAGS).join(", ")}`;
  const positional: string[] = [];
  const flags = new Set<string>();
  let timeoutMs: number | undefined;
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index]!;
    if (verb === "backoff" && (arg === "--timeout" || arg.startsWith("--timeout="))) {
      const value = arg === "--timeout" ? rest[++index] : arg.slice("--timeout=".length);
      timeoutMs = value === undefined ? undefined : parseDurationMs(value);
      if (timeoutMs === undefined || timeoutMs === 0) return `--timeout: expected a duration above 0 such as 90s or 5m, got ${JSON.stringify(value ?? "nothing")}`;
    } else if (arg.startsWith("-") && arg !== "-") {
      if (!(VERB_FLAGS[verb] as readonly string[]).includes(arg)) return `${verb}: unknown option ${JSON.stringify(arg)}`;
      flags.add(arg);
    } else positional.push(arg);
  }
  const wanted = verb === "backoff" ? 2 : 1;
  const [bookPath, word] = positional;
  if (bookPath === undefined) return `${verb}: expected a book file (YAML)`;
  if (positional.length > wanted) return `${verb}: unexpected argument ${JSON.stringify(positional[wanted])}`;
  if (verb === "backoff" && word !== "on" && word !== "off") return `backoff: expected on or off after the book, got ${JSON.stringify(word ?? "nothing")}`;
  if (timeoutMs !== undefined && !flags.has("--wait")) return "backoff: --timeout only goes with --wait";
  return {
    verb, bookPath, flags,
    ...(verb === "backoff" && { word: word as "on" | "off" }),
    ...(timeoutMs !== undefined && { timeoutMs }),
  };
};

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

/** `boxinit host ...`; returns the exit code. */
export const hostCommand = async (argv: readonly string[]): Promise<number> => {
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

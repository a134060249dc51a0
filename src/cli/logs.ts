// `boxinit logs [SERVICE] [-n N] [-f] [--log-dir DIR]` (and `boxinit host
// logs BOOK [SERVICE] ...`): its arguments, usage text and exit codes. The
// run is modes/logs.ts; reading the files is control/log-read.ts.

/** Exit codes of `boxinit logs`. */
export const LOGS_EXIT = { shown: 0, failed: 1, usage: 2 } as const;

export const DEFAULT_LOG_LINES = 100;

export const LOGS_USAGE = `usage: boxinit logs [SERVICE] [-n N] [-f] [--log-dir DIR] [--state-dir DIR | --config FILE]

  SERVICE        print the last N lines of the service's log file (log_files:),
                 across its rotated files, oldest first; without SERVICE: list
                 the services that have a log file
  -n, --lines N  how many lines (default ${DEFAULT_LOG_LINES}; 0: none, with -f only what comes)
  -f, --follow   then print new lines as they come, through rotations, until
                 SIGINT or SIGTERM (exit 0)
  --log-dir DIR  the log directory itself; otherwise the config's log_files.dir,
                 or STATE_DIR/logs/services with --state-dir (e.g. on the host)

Each line: TIME (ISO-8601 UTC, when log_files.timestamps) STREAM (out|err) LINE.
Exit codes: 0 shown, 1 no such log or it cannot be read, 2 usage. See docs/logging.md.
`;

export interface LogsArgs {
  service?: string;
  lines: number;
  isFollowing: boolean;
  logDir?: string;
}

const parseLines = (value: string | undefined): number | string => {
  if (value !== undefined && /^\d{1,9}$/.test(value)) return Number(value);
  return `-n: expected a count of lines (0 or more), got ${value === undefined ? "nothing" : JSON.stringify(value)}`;
};

// The value of -n/--lines/--log-dir: "-n 5", "-n5", "--lines=5".
const valueOf = (arg: string, args: readonly string[], index: number): { value: string | undefined; used: number } => {
  const eq = arg.indexOf("=");
  if (arg.startsWith("--") && eq > 0) return { value: arg.slice(eq + 1), used: 0 };
  if (arg.startsWith("-n") && arg.length > 2) return { value: arg.slice(2), used: 0 };
  return { value: args[index + 1], used: 1 };
};

/** Parse `logs` argv (after --state-dir/--config are taken out); "help", the arguments, or the usage error. */
export const parseLogsArgs = (args: readonly string[], hasLogDir = true): LogsArgs | "help" | { error: string } => {
  const parsed: LogsArgs = { lines: DEFAULT_LOG_LINES, isFollowing: false };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const name = arg.startsWith("--") && arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg.startsWith("-n") ? "-n" : arg;
    if (name === "-h" || name === "--help") return "help";
    if (name === "-f" || name === "--follow") parsed.isFollowing = true;
    else if (name === "-n" || name === "--lines") {
      const { value, used } = valueOf(arg, args, index);
      index += used;
      const lines = parseLines(value);
      if (typeof lines === "string") return { error: lines };
      parsed.lines = lines;
    } else if (name === "--log-dir" && hasLogDir) {
      const { value, used } = valueOf(arg, args, index);
      index += used;
      if (value === undefined || !value.startsWith("/")) return { error: `--log-dir: expected an absolute path, got ${value === undefined ? "nothing" : JSON.stringify(value)}` };
      parsed.logDir = value;
    } else if (arg.startsWith("-") && arg !== "-") return { error: `unknown option ${JSON.stringify(arg)}` };
    else if (parsed.service === undefined) {
      if (!isServiceName(arg)) return { error: `not a service name: ${JSON.stringify(arg)}` };
      parsed.service = arg;
    } else return { error: `unexpected argument ${JSON.stringify(arg)}` };
  }
  return parsed;
};

/** A name that can be a log file's: one path component, printable. */
const isServiceName = (name: string): boolean => /^[\x21-\x7e]+$/.test(name) && !name.includes("/") && name !== "." && name !== "..";

export const HOST_LOGS_USAGE = `usage: boxinit host logs BOOK [SERVICE] [-n N] [-f]

  The log files of the book's box in HOME/logs/services (HOME: the book's home,
  the host side of the state directory); no Docker engine needed, so it works
  after the container was removed. SERVICE, -n and -f as for boxinit logs
  (boxinit logs --help); without SERVICE: the services that have a log file.
`;

/** Parse `host logs` argv (after "logs"): the book, then logs' own arguments (no --log-dir: the book's home says where). */
export const parseHostLogsArgs = (argv: readonly string[]): { bookPath: string; args: LogsArgs } | "help" | { error: string } => {
  if (argv.includes("-h") || argv.includes("--help")) return "help";
  const [bookPath, ...rest] = argv;
  if (bookPath === undefined || (bookPath.startsWith("-") && bookPath !== "-")) return { error: "logs: expected a book file (YAML) first" };
  const args = parseLogsArgs(rest, false);
  if (args === "help" || "error" in args) return args === "help" ? "help" : { error: `logs: ${args.error}` };
  return { bookPath, args };
};

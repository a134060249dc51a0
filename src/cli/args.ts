// Parses `boxinit [OPTIONS] [--] CMD ARGS...` plus BOXINIT_* environment
// overrides. Pure: returns every problem at once instead of exiting.
import { MAX_TIMER_MS, parseDurationMs } from "../config/duration.ts";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { parseRemaps, type RemapTable } from "../pid1/exit-code.ts";
import { parseRewrites, parseSignal, type RewriteTable } from "../pid1/signals.ts";
import type { LogFormat } from "../log/logger.ts";

/** Docker's default stop timeout is 10 s: 9 s leaves a second to exit. */
export const DEFAULT_GRACE_MS = GLOBAL_DEFAULTS.graceMs;

export interface InitArgs {
  command: string[];
  graceMs: number;
  logFormat: LogFormat;
  /** -q: -1, default 0, -v: 1, -vv: 2 */
  verbosity: number;
  rewrites: RewriteTable;
  remaps: RemapTable;
  showHelp: boolean;
  showVersion: boolean;
  preserveFds: number;
  /** --config FILE (BOXINIT_CONFIG is read by the config loader). */
  configPath?: string;
  /** --state-dir DIR: wins over the config file and BOXINIT_STATE_DIR. */
  stateDir?: string;
  /** --grace given on the command line: wins over the config file. */
  isGraceExplicit: boolean;
  selftestSpawnCount?: number;
  /** --parent-death-signal SIG (env BOXINIT_PARENT_DEATH_SIGNAL): sent to boxinit when its parent dies. */
  parentDeathSignal?: number;
}

export type ParseResult = { ok: true; args: InitArgs } | { ok: false; errors: string[] };

const VALUE_OPTIONS = new Set(["--config", "--state-dir", "--grace", "--log-format", "--remap-exit", "--rewrite", "--preserve-fds", "--x-selftest-spawn", "--parent-death-signal"]);

export const USAGE = `usage: boxinit [OPTIONS] [--] [CMD [ARGS...]]
       boxinit status [--json] | backoff on|off | health [--live|--ready] | check
       boxinit logs [SERVICE] [-n N] [-f]              (service log files; boxinit logs --help)
       boxinit job NAME [options] [-- CMD ARGS...]     (boxinit job --help)
       boxinit host run|promote|cron|status|backoff BOOK  (on the Docker host; boxinit host --help)

Runs the services of the config file (Mini-VM mode) and/or CMD as the main
command under a PID 1 that reaps zombies, forwards signals, stops everything
within one grace period and exits with CMD's exit code (128+N when CMD died of
signal N; 127 not found; 126 not executable). Without a config file or
init.d, "boxinit -- CMD" is a tini-style init; with a state directory (/docker
existing, or --state-dir) it also writes the status and follows backoff.

options:
  --config FILE          the config (default /etc/boxinit/boxinit.yaml, optional; env BOXINIT_CONFIG)
  --state-dir DIR        status, status.json, backoff live here (default /docker; env BOXINIT_STATE_DIR)
  --grace DURATION       time budget for stopping everything (default 9s; env BOXINIT_GRACE)
  --rewrite FROM:TO      send signal TO when FROM is received (TERM:QUIT; WINCH:0 drops); repeatable
  --remap-exit FROM:TO   exit with TO when the code would be FROM (143:0); repeatable
  --preserve-fds N       pass inherited fds 3..3+N-1 on to CMD (default 0: stdio only; env BOXINIT_PRESERVE_FDS)
  --parent-death-signal SIG  when boxinit is not PID 1 and its parent dies, act as if SIG came
                         (TERM: stop CMD within the grace period; env BOXINIT_PARENT_DEATH_SIGNAL)
  --log-format text|json boxinit's own log on stderr (default text; env BOXINIT_LOG_FORMAT)
  -v, -vv                more log detail (forwarded signals; reaped orphans)
  -q                     warnings and errors only
  -h, --help             this text
  --version              print the version
`;

const parseLogFormat = (value: string, where: string, errors: string[]): LogFormat => {
  if (value === "text" || value === "json") return value;
  errors.push(`${where}: expected text|json, got ${JSON.stringify(value)}`);
  return "text";
};

const parsePreserveFds = (value: string, where: string, errors: string[]): number => {
  if (/^\d{1,4}$/.test(value)) return Number(value);
  errors.push(`${where}: expected a count of file descriptors (0-9999), got ${JSON.stringify(value)}`);
  return 0;
};

const parseGrace = (value: string, where: string, errors: string[]): number => {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    errors.push(`${where}: expected a duration such as 250ms, 9s, 5m, got ${JSON.stringify(value)}`);
    return DEFAULT_GRACE_MS;
  }
  // Beyond the timer limit Node fires at once: the budget would end before it began.
  if (ms > MAX_TIMER_MS) {
    errors.push(`${where}: expected a duration up to 596h (the timer limit), got ${JSON.stringify(value)}`);
    return DEFAULT_GRACE_MS;
  }
  return ms;
};

const parseStateDir = (value: string, errors: string[]): string | undefined => {
  if (value.startsWith("/")) return value;
  errors.push(`--state-dir: expected an absolute path, got ${JSON.stringify(value)}`);
  return undefined;
};

// Any standard signal, as tini -p allows (KILL included: boxinit then dies
// with its parent and the command is left to the init above).
const parseDeathSignal = (text: string, where: string, errors: string[]): number | undefined => {
  const signal = parseSignal(text);
  if (signal !== undefined && signal >= 1 && signal <= 31) return signal;
  errors.push(`${where}: expected a signal name or number 1-31 (e.g. TERM, SIGKILL, 15), got ${JSON.stringify(text)}`);
  return undefined;
};

/**
 * Parse argv (without node and script) and the environment. Over 60 lines on
 * purpose: one loop with one branch per option, in the order of the usage
 * text, reads better than the options spread over helpers.
 */
export const parseInitArgs = (argv: readonly string[], env: NodeJS.ProcessEnv): ParseResult => {
  const errors: string[] = [];
  const rewriteValues: string[] = [];
  const remapValues: string[] = [];
  let configPath: string | undefined;
  let stateDir: string | undefined;
  let isGraceExplicit = false;
  let graceMs = env.BOXINIT_GRACE ? parseGrace(env.BOXINIT_GRACE, "BOXINIT_GRACE", errors) : DEFAULT_GRACE_MS;
  let logFormat: LogFormat = env.BOXINIT_LOG_FORMAT
    ? parseLogFormat(env.BOXINIT_LOG_FORMAT, "BOXINIT_LOG_FORMAT", errors)
    : "text";
  let preserveFds = env.BOXINIT_PRESERVE_FDS ? parsePreserveFds(env.BOXINIT_PRESERVE_FDS, "BOXINIT_PRESERVE_FDS", errors) : 0;
  let verbosity = 0;
  let showHelp = false;
  let showVersion = false;
  let selftestSpawnCount: number | undefined;
  let parentDeathSignal = env.BOXINIT_PARENT_DEATH_SIGNAL ? parseDeathSignal(env.BOXINIT_PARENT_DEATH_SIGNAL, "BOXINIT_PARENT_DEATH_SIGNAL", errors) : undefined;
  let command: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      command = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      command = argv.slice(i); // tini style: the first non-option starts the command
      break;
    }
    let name = arg;
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    if (VALUE_OPTIONS.has(name) && value === undefined) {
      value = argv[++i];
      if (value === undefined) {
        errors.push(`${name}: expects a value`);
        break;
      }
    }
    switch (name) {
      case "--grace": graceMs = parseGrace(value!, "--grace", errors); isGraceExplicit = true; break;
      case "--config": configPath = value!; break;
      case "--state-dir": stateDir = parseStateDir(value!, errors); break;
      case "--log-format": logFormat = parseLogFormat(value!, "--log-format", errors); break;
      case "--rewrite": rewriteValues.push(value!); break;
      case "--remap-exit": remapValues.push(value!); break;
      case "--preserve-fds": preserveFds = parsePreserveFds(value!, "--preserve-fds", errors); break;
      case "--x-selftest-spawn": selftestSpawnCount = Number(value); break;
      case "--parent-death-signal": parentDeathSignal = parseDeathSignal(value!, "--parent-death-signal", errors); break;
      case "-h": case "--help": showHelp = true; break;
      case "--version": showVersion = true; break;
      case "-q": verbosity = -1; break;
      default:
        if (/^-v+$/.test(name)) verbosity = Math.max(verbosity, 0) + name.length - 1;
        else errors.push(`${arg}: unknown option (see boxinit --help)`);
    }
  }
  const rewrites = parseRewrites(rewriteValues);
  const remaps = parseRemaps(remapValues);
  errors.push(...rewrites.errors, ...remaps.errors);
  if (selftestSpawnCount !== undefined && !(Number.isInteger(selftestSpawnCount) && selftestSpawnCount > 0)) {
    errors.push("--x-selftest-spawn: expected a positive integer");
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    args: { command, configPath, stateDir, isGraceExplicit, graceMs, logFormat, verbosity, rewrites: rewrites.table, remaps: remaps.table, showHelp, showVersion, preserveFds, selftestSpawnCount, parentDeathSignal },
  };
};

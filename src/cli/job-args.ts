// Parses `boxinit job NAME [OPTIONS] [-- CMD ARGS...]`. Pure: every problem at
// once, nothing read from disk. The command may be left out when the config
// has a job of that name.
import { MAX_TIMER_MS, parseDurationMs } from "../config/duration.ts";
import type { LogFormat } from "../log/logger.ts";
import { abbreviateName, jobNameProblem, MAX_JOB_NAME_BYTES } from "../jobs/report-name.ts";

export interface JobArgs {
  name: string;
  command: string[];
  timeoutMs?: number;
  waitMs: number;
  /** --on-failure CMD: run by /bin/sh -c. */
  onFailure?: string[];
  configPath?: string;
  stateDir?: string;
  graceMs?: number;
  logFormat: LogFormat;
  verbosity: number;
  showHelp: boolean;
}

export const JOB_USAGE = `usage: boxinit job NAME [OPTIONS] [-- CMD [ARGS...]]

Runs CMD once as the batch job NAME (at most ${MAX_JOB_NAME_BYTES} bytes; a cron wrapper): nothing runs while backoff
is engaged or another run of NAME holds its lock (exit 0). The output passes
through and is captured; a failed run (non-zero exit, signal, timeout) leaves
STATE_DIR/logs/<time>-cron-failure-NAME-exit-CODE-HOST and runs the on_failure
hook. The result goes to status.json (jobs.NAME). Exits with the job's code
(128+N on signal N, 124 on timeout). Without CMD, the config's jobs.NAME runs.

options:
  --timeout DURATION     SIGTERM after this, SIGKILL after --grace more (exit 124)
  --wait DURATION        wait up to this for a running instance to finish (default: skip at once)
  --on-failure CMD       run CMD (sh -c) after a failure; BOXINIT_JOB, BOXINIT_EXIT_CODE,
                         BOXINIT_SIGNAL, BOXINIT_LOG_FILE, BOXINIT_HOSTNAME are set
  --state-dir DIR        where backoff, the lock, status.json and logs/ are (default /docker)
  --config FILE          the config (default /etc/boxinit/boxinit.yaml, optional)
  --grace DURATION       SIGTERM to SIGKILL on timeout or docker stop (default 9s)
  --log-format text|json boxinit's own log on stderr
  -v, -q                 more / less log detail
`;

const VALUE_OPTIONS = new Set(["--timeout", "--wait", "--on-failure", "--state-dir", "--config", "--grace", "--log-format"]);

const readDuration = (value: string, name: string, errors: string[]): number | undefined => {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms > MAX_TIMER_MS) {
    errors.push(`${name}: expected a duration such as 30s, 5m, 2h (up to 596h), got ${JSON.stringify(value)}`);
    return undefined;
  }
  return ms;
};

export type JobParse = { ok: true; args: JobArgs } | { ok: false; errors: string[] };

/**
 * argv after the word `job`. Over 60 lines on purpose: one loop with one
 * branch per option, as parseInitArgs (args.ts).
 */
export const parseJobArgs = (argv: readonly string[], env: NodeJS.ProcessEnv): JobParse => {
  const errors: string[] = [];
  const args: JobArgs = { name: "", command: [], waitMs: 0, logFormat: env.BOXINIT_LOG_FORMAT === "json" ? "json" : "text", verbosity: 0, showHelp: false };
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      args.command = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (name === undefined) name = arg;
      else errors.push(`unexpected ${JSON.stringify(arg)}: put the command after -- (boxinit job NAME -- CMD ARGS)`);
      continue;
    }
    const eq = arg.indexOf("=");
    const option = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    let value = option !== arg ? arg.slice(eq + 1) : undefined;
    if (VALUE_OPTIONS.has(option) && value === undefined) {
      value = argv[++i];
      if (value === undefined) {
        errors.push(`${option}: expects a value`);
        break;
      }
    }
    switch (option) {
      case "--timeout": {
        const ms = readDuration(value!, option, errors);
        // 0 would time the job out the moment it starts (the config refuses it too).
        if (ms === 0) errors.push(`--timeout: expected a duration above 0, got ${JSON.stringify(value)}`);
        else if (ms !== undefined) args.timeoutMs = ms;
        break;
      }
      case "--wait": { const ms = readDuration(value!, option, errors); if (ms !== undefined) args.waitMs = ms; break; }
      case "--grace": { const ms = readDuration(value!, option, errors); if (ms !== undefined) args.graceMs = ms; break; }
      case "--on-failure":
        if (value!.trim() === "") errors.push("--on-failure: expected a command");
        else args.onFailure = ["/bin/sh", "-c", value!];
        break;
      case "--state-dir":
        if (value!.startsWith("/")) args.stateDir = value!;
        else errors.push(`--state-dir: expected an absolute path, got ${JSON.stringify(value)}`);
        break;
      case "--config": args.configPath = value!; break;
      case "--log-format":
        if (value === "text" || value === "json") args.logFormat = value;
        else errors.push(`--log-format: expected text|json, got ${JSON.stringify(value)}`);
        break;
      case "-h": case "--help": args.showHelp = true; break;
      case "-q": args.verbosity = -1; break;
      default:
        if (/^-v+$/.test(option)) args.verbosity = option.length - 1;
        else errors.push(`${arg}: unknown option (see boxinit job --help)`);
    }
  }
  if (args.showHelp) return { ok: true, args };
  const nameProblem = name === undefined || name === "" ? undefined : jobNameProblem(name);
  if (name === undefined || name === "") errors.push("expected a job name (boxinit job NAME -- CMD ARGS)");
  else if (nameProblem !== undefined) errors.push(`NAME ${JSON.stringify(abbreviateName(name))}: ${nameProblem}`);
  else args.name = name;
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, args };
};

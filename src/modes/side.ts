// The commands that run beside PID 1 (inside the container, or on the host
// with --state-dir): status, backoff, health, check. Each reads or writes the
// state directory (control/) or the config once and prints what it found;
// their arguments and usage text are cli/.
import { join } from "node:path";
import { writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { loadConfig } from "../config/load.ts";
import { describePlan } from "../config/plan.ts";
import { parseYamlText } from "../config/yaml-text.ts";
import { readRegularFile } from "../control/atomic-write.ts";
import { BACKOFF_FILE } from "../control/backoff.ts";
import { describeBackoffWrite, writeBackoffWord } from "../control/backoff-write.ts";
import { judgeHealth, type HealthMode } from "../control/health-verdict.ts";
import { formatStatus } from "../control/status-format.ts";
import { readStatus } from "../control/status-read.ts";
import { BACKOFF_USAGE, parseBackoffArgs } from "../cli/backoff.ts";
import { takeCommonOptions, type CommonOptions } from "../cli/common-options.ts";
import { HEALTH_EXIT, HEALTH_USAGE, parseHealthArgs } from "../cli/health.ts";
import { parseStatusArgs, STATUS_EXIT, STATUS_USAGE } from "../cli/status.ts";
import { loadConfigOrReport } from "./config.ts";
import { logsCommand } from "./logs.ts";

/** Where a state-directory command writes, and its clock; tests substitute both. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  nowMs(): number;
}

export const processIo: CommandIo = {
  stdout: (text) => writeLine(1, text),
  stderr: (text) => writeLine(2, text),
  nowMs: () => Date.now(),
};

/** `boxinit status [--json]` for the state directory; returns the exit code. */
export const statusCommand = (args: readonly string[], stateDir: string, io: CommandIo = processIo): number => {
  const parsed = parseStatusArgs(args);
  if (parsed === "help") {
    io.stdout(STATUS_USAGE);
    return STATUS_EXIT.shown;
  }
  if ("unexpected" in parsed) {
    io.stderr(`boxinit status: unexpected argument ${JSON.stringify(parsed.unexpected)}\n${STATUS_USAGE}`);
    return STATUS_EXIT.usage;
  }
  const read = readStatus(stateDir);
  if (!read.ok) {
    io.stderr(`boxinit status: ${read.message}\n`);
    return STATUS_EXIT.noStatus;
  }
  io.stdout(parsed.isJson ? read.text : formatStatus(read.document, io.nowMs()));
  return STATUS_EXIT.shown;
};

/** `boxinit backoff on|off` for the state directory (or `file`, backoff.file); returns the exit code. */
export const backoffCommand = (args: readonly string[], stateDir: string, io: CommandIo = processIo, file = join(stateDir, BACKOFF_FILE)): number => {
  const word = parseBackoffArgs(args);
  if (word === "help") {
    io.stdout(BACKOFF_USAGE);
    return 0;
  }
  if (typeof word === "object") {
    io.stderr(`boxinit backoff: ${word.error}\n${BACKOFF_USAGE}`);
    return 2;
  }
  const written = writeBackoffWord(stateDir, word, file);
  if (!written.ok) {
    io.stderr(`boxinit backoff: ${written.message}\n${written.hint ? `  hint: ${written.hint}\n` : ""}`);
    return 1;
  }
  io.stdout(`boxinit backoff: ${describeBackoffWrite(word, written)}\n`);
  return 0;
};

// The words before the reason: the default mode keeps the output it always had.
const HEALTH_WORDS: Record<HealthMode, { healthy: string; unhealthy: string }> = {
  ready: { healthy: "healthy", unhealthy: "unhealthy" },
  live: { healthy: "live", unhealthy: "not live" },
};

/** `boxinit health` for the state directory; returns the exit code. */
export const healthCommand = (args: readonly string[], stateDir: string, io: CommandIo = processIo): number => {
  const parsed = parseHealthArgs(args);
  if (!parsed.ok) {
    io.stderr(`boxinit health: ${parsed.error}\n${HEALTH_USAGE}`);
    return HEALTH_EXIT.usage;
  }
  if (parsed.showHelp) {
    io.stdout(HEALTH_USAGE);
    return HEALTH_EXIT.healthy;
  }
  const words = HEALTH_WORDS[parsed.mode];
  const read = readStatus(stateDir);
  if (!read.ok) {
    io.stdout(`${words.unhealthy}: ${read.message}\n`);
    return HEALTH_EXIT.unhealthy;
  }
  const verdict = judgeHealth(parsed.mode, read.document, io.nowMs(), parsed.maxAgeMs);
  io.stdout(`${verdict.isHealthy ? words.healthy : words.unhealthy}: ${verdict.why}\n`);
  return verdict.isHealthy ? HEALTH_EXIT.healthy : HEALTH_EXIT.unhealthy;
};

/** `boxinit check`: validate the config and print the start plan, starting nothing. Exit 0 when valid, 2 when not. */
export const checkCommand = async (options: CommonOptions): Promise<number> => {
  if (options.rest.length > 0) {
    writeLine(2, `boxinit check: usage: unexpected argument ${JSON.stringify(options.rest[0])} (boxinit check [--config FILE] [--state-dir DIR])\n`);
    return EXIT.usage;
  }
  const config = await loadConfigOrReport({ configPath: options.configPath, stateDir: options.stateDir });
  if (!config) return EXIT.usage;
  writeLine(1, describePlan(config));
  return 0;
};

// The file's state_dir key, read on its own; undefined when there is none to read.
const stateDirOfFile = async (source: string | undefined): Promise<string | undefined> => {
  if (source === undefined) return undefined;
  try {
    const parsed = await parseYamlText(readRegularFile(source, 1024 * 1024).toString("utf8"), source);
    const value = parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? (parsed.value as Record<string, unknown>).state_dir : undefined;
    return typeof value === "string" && value.startsWith("/") ? value : undefined;
  } catch {
    return undefined; // unreadable: the default is all that is left
  }
};

/**
 * The state directory a reader should look in: --state-dir, else what PID 1
 * would use (BOXINIT_STATE_DIR, the config's state_dir), else /docker. A config
 * that does not load is not this command's problem: the default is used.
 */
export const resolveStateDir = async (options: CommonOptions, env: NodeJS.ProcessEnv): Promise<string> => {
  if (options.stateDir) return options.stateDir;
  const loaded = await loadConfig({ path: options.configPath, env });
  if (loaded.ok) return loaded.config.stateDir;
  // The config does not load for this caller (often only its `user:` checks,
  // which need root): its state_dir alone still says where PID 1 writes.
  const fromEnv = env.BOXINIT_STATE_DIR?.startsWith("/") ? env.BOXINIT_STATE_DIR : undefined;
  const stateDir = fromEnv ?? (await stateDirOfFile(loaded.source)) ?? GLOBAL_DEFAULTS.stateDir;
  writeLine(2, `boxinit: warning: config: ${loaded.source ?? "the configuration"} does not load (${loaded.errors.length} problem${loaded.errors.length === 1 ? "" : "s"}; see "boxinit check"): using state directory ${stateDir}\n`);
  return stateDir;
};

/**
 * The file `boxinit backoff` writes: with --state-dir, that directory's
 * backoff (a host-side caller); else the one PID 1 watches: backoff.file
 * (config or BOXINIT_BACKOFF_FILE), else <stateDir>/backoff.
 */
export const resolveBackoffFile = async (options: CommonOptions, env: NodeJS.ProcessEnv, stateDir: string): Promise<string> => {
  if (options.stateDir) return join(options.stateDir, BACKOFF_FILE);
  const loaded = await loadConfig({ path: options.configPath, env });
  if (loaded.ok) return loaded.config.backoffFile;
  return env.BOXINIT_BACKOFF_FILE?.startsWith("/") ? env.BOXINIT_BACKOFF_FILE : join(stateDir, BACKOFF_FILE);
};

const usageErrors = (command: string, errors: readonly string[]): number => {
  for (const error of errors) writeLine(2, `boxinit ${command}: usage: ${error}\n`);
  return EXIT.usage;
};

const withStateDir = (command: string, run: (rest: string[], stateDir: string) => number) => async (argv: readonly string[]): Promise<number> => {
  const options = takeCommonOptions(argv);
  if (options.errors.length > 0) return usageErrors(command, options.errors);
  return run(options.rest, await resolveStateDir(options, process.env));
};

/** Command name → its run function (argv after the name). */
export const SIDE_COMMANDS: Readonly<Record<string, (argv: readonly string[]) => Promise<number>>> = {
  status: withStateDir("status", (rest, dir) => statusCommand(rest, dir)),
  backoff: async (argv) => {
    const options = takeCommonOptions(argv);
    if (options.errors.length > 0) return usageErrors("backoff", options.errors);
    const stateDir = await resolveStateDir(options, process.env);
    return backoffCommand(options.rest, stateDir, processIo, await resolveBackoffFile(options, process.env, stateDir));
  },
  health: withStateDir("health", (rest, dir) => healthCommand(rest, dir)),
  logs: (argv) => logsCommand(argv),
  check: async (argv) => {
    const options = takeCommonOptions(argv);
    if (options.errors.length > 0) return usageErrors("check", options.errors);
    return checkCommand(options);
  },
};

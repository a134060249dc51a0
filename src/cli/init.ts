// `boxinit [OPTIONS] [-- CMD ARGS]`: parse, set up logging, then either the
// plain tini-style run (a command and no Mini-VM setup anywhere) or Mini-VM
// mode (config, state directory, services). Returns the exit code; main.ts
// alone calls process.exit.
import { existsSync } from "node:fs";
import { parseInitArgs, USAGE, type InitArgs } from "./args.ts";
import { createLogger, writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { runCommand, type FaultHandle } from "../pid1/run-command.ts";
import { VERSION } from "../version.ts";
import { DEFAULT_CONFIG_PATH, GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { loadLibrary } from "../lazy/libraries.ts";

/**
 * Mini-VM mode when anything asks for it: a config file (given or at the
 * default path), a state directory, init/finish scripts, or no command at
 * all. Otherwise `boxinit -- CMD` stays as lean as tini: no config parsing,
 * no status file, no watcher.
 */
export const whyMiniVm = (args: InitArgs, env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): string | undefined => {
  if (args.command.length === 0) return "no command was given";
  if (args.configPath !== undefined) return "--config was given";
  if (args.stateDir !== undefined) return "--state-dir was given";
  for (const name of ["BOXINIT_CONFIG", "BOXINIT_STATE_DIR", "BOXINIT_INIT_DIR", "BOXINIT_FINISH_DIR"]) if (env[name]) return `${name} is set`;
  for (const path of [DEFAULT_CONFIG_PATH, GLOBAL_DEFAULTS.initDir, GLOBAL_DEFAULTS.finishDir]) if (exists(path)) return `${path} exists`;
  return undefined;
};

/** Run the init command; usage and config errors exit 2 before anything starts. */
export const initCommand = async (argv: readonly string[], faults: FaultHandle): Promise<number> => {
  const parsed = parseInitArgs(argv, process.env);
  if (!parsed.ok) {
    for (const error of parsed.errors) writeLine(2, `boxinit: usage: ${error}\n`);
    return EXIT.usage;
  }
  const args = parsed.args;
  if (args.showHelp) {
    writeLine(1, USAGE);
    return 0;
  }
  if (args.showVersion) {
    writeLine(1, `boxinit ${VERSION}\n`);
    return 0;
  }
  const why = whyMiniVm(args, process.env);
  if (why === undefined) {
    const log = await createLogger(args.logFormat, args.verbosity);
    return runCommand(
      { command: args.command, graceMs: args.graceMs, rewrites: args.rewrites, remaps: args.remaps, preserveFds: args.preserveFds, selftestSpawnCount: args.selftestSpawnCount, parentDeathSignal: args.parentDeathSignal },
      log,
      faults,
    );
  }
  const { miniVmCommand } = await loadLibrary("modes");
  return miniVmCommand(args, faults, why);
};

// `boxinit [OPTIONS] [-- CMD ARGS]`: parse, set up logging, then either the
// tini-style run (a command and no Mini-VM setup anywhere; self-managing when
// a state directory exists, docs/tini-style.md) or Mini-VM mode (config,
// init/finish scripts, services). Returns the exit code; main.ts alone calls
// process.exit.
import { existsSync } from "node:fs";
import { parseInitArgs, USAGE, type InitArgs } from "./args.ts";
import { createLogger, writeLine, type Logger } from "../log/logger.ts";
import { EXIT, remapExitCode } from "../pid1/exit-code.ts";
import { runCommand, type FaultHandle } from "../pid1/run-command.ts";
import { VERSION } from "../version.ts";
import { DEFAULT_CONFIG_PATH, GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { loadLibrary } from "../lazy/libraries.ts";
import { isBackoffEngagedAtStart, planCommandBox, type CommandBoxPlan } from "../control/command-box-plan.ts";
import { loadNative } from "../native/addon.ts";

/**
 * Mini-VM mode when anything asks for it: a config file (given or at the
 * default path), init/finish scripts, or no command at all. A state
 * directory alone (--state-dir, BOXINIT_STATE_DIR, /docker) does not: a
 * Mini-VM with only a command is the same box, so the tini-style run keeps
 * it itself (self-managing) and starts as fast as without one. Otherwise
 * `boxinit -- CMD` stays as lean as tini: no config parsing, no status file,
 * no watcher.
 */
export const whyMiniVm = (args: InitArgs, env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): string | undefined => {
  if (args.command.length === 0) return "no command was given";
  if (args.configPath !== undefined) return "--config was given";
  for (const name of ["BOXINIT_CONFIG", "BOXINIT_INIT_DIR", "BOXINIT_FINISH_DIR"]) if (env[name]) return `${name} is set`;
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
    const planned = planCommandBox(args.stateDir, process.env);
    if (!planned.ok) {
      for (const error of planned.errors) writeLine(2, `boxinit: usage: ${error}\n`);
      return EXIT.usage;
    }
    const log = await createLogger(args.logFormat, args.verbosity);
    const box = planned.plan && (await backedOffAtStart(planned.plan, args, log));
    if (typeof box === "number") return box;
    return runCommand(
      { command: args.command, graceMs: args.graceMs, rewrites: args.rewrites, remaps: args.remaps, preserveFds: args.preserveFds, selftestSpawnCount: args.selftestSpawnCount, parentDeathSignal: args.parentDeathSignal, box },
      log,
      faults,
    );
  }
  const { miniVmCommand } = await loadLibrary("modes");
  return miniVmCommand(args, faults, why);
};

/**
 * A self-managing run whose backoff is engaged before start runs nothing:
 * `backedoff`, exit 0 (remapped). Returns that code, else the plan to run
 * with (or undefined: the directory is another live boxinit's, run plain).
 * Only the one small read when backoff is off: the box itself is set up
 * after the spawn.
 */
const backedOffAtStart = async (plan: CommandBoxPlan, args: InitArgs, log: Logger): Promise<number | CommandBoxPlan | undefined> => {
  if (!isBackoffEngagedAtStart(plan.stateDir)) return plan;
  const code = remapExitCode(0, args.remaps);
  const { backOffAtStart } = await loadLibrary("box");
  return backOffAtStart(plan, { log, native: loadNative().native }, code) ? code : undefined;
};

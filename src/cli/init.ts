// `boxinit [OPTIONS] [-- CMD ARGS]`: the arguments, the help and version
// text, and the choice main.ts makes with them: the tini-style run (a command
// and no Mini-VM setup anywhere; self-managing when a state directory exists,
// docs/tini-style.md: modes/tini.ts) or Mini-VM mode (config, init/finish
// scripts, services: modes/mini-vm.ts).
import { existsSync } from "node:fs";
import { parseInitArgs, USAGE, type InitArgs } from "./args.ts";
import { writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { VERSION } from "../version.ts";
import { DEFAULT_CONFIG_PATH, GLOBAL_DEFAULTS } from "../config/defaults.ts";

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

/**
 * Parse `boxinit [OPTIONS] [-- CMD ARGS]`: the arguments, or the exit code
 * once a usage error, the help or the version was printed.
 */
export const takeInitArgs = (argv: readonly string[], env: NodeJS.ProcessEnv): InitArgs | number => {
  const parsed = parseInitArgs(argv, env);
  if (!parsed.ok) {
    for (const error of parsed.errors) writeLine(2, `boxinit: usage: ${error}\n`);
    return EXIT.usage;
  }
  if (parsed.args.showHelp) {
    writeLine(1, USAGE);
    return 0;
  }
  if (parsed.args.showVersion) {
    writeLine(1, `boxinit ${VERSION}\n`);
    return 0;
  }
  return parsed.args;
};

// The commands that run beside PID 1 (inside the container, or on the host
// with --state-dir): status, backoff, health, check. One small module each.
import { writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { resolveStateDir, takeCommonOptions } from "./common-options.ts";
import { statusCommand } from "./status.ts";
import { backoffCommand } from "./backoff.ts";
import { healthCommand } from "./health.ts";
import { checkCommand } from "./check.ts";

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
  backoff: withStateDir("backoff", (rest, dir) => backoffCommand(rest, dir)),
  health: withStateDir("health", (rest, dir) => healthCommand(rest, dir)),
  check: async (argv) => {
    const options = takeCommonOptions(argv);
    if (options.errors.length > 0) return usageErrors("check", options.errors);
    return checkCommand(options);
  },
};

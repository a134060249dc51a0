// `boxinit [OPTIONS] -- CMD ARGS`: parse, set up logging, run the command
// under PID 1 duties. Returns the exit code; main.ts alone calls process.exit.
import { parseInitArgs, USAGE } from "./args.ts";
import { createLogger, writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { runCommand, type FaultHandle } from "../pid1/run-command.ts";
import { VERSION } from "../version.ts";

/** Run the init command; usage errors exit 2 before anything starts. */
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
  const log = await createLogger(args.logFormat, args.verbosity);
  return runCommand(
    { command: args.command, graceMs: args.graceMs, rewrites: args.rewrites, remaps: args.remaps, preserveFds: args.preserveFds, selftestSpawnCount: args.selftestSpawnCount },
    log,
    faults,
  );
};

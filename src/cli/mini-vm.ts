// `boxinit [OPTIONS] [-- CMD]` in Mini-VM mode: load and validate the config
// (every problem at once, exit 2 before anything starts), then run it.
import { createLogger, writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import type { FaultHandle } from "../pid1/run-command.ts";
import { DEFAULT_CONFIG_PATH } from "../config/defaults.ts";
import { runMiniVm } from "../supervisor/mini-vm.ts";
import type { InitArgs } from "./args.ts";
import { loadConfigOrReport } from "./config-errors.ts";

/** Run the configured container; resolves to the exit code. */
export const miniVmCommand = async (args: InitArgs, faults: FaultHandle): Promise<number> => {
  const config = await loadConfigOrReport(args);
  if (!config) return EXIT.usage;
  if (config.services.length === 0 && args.command.length === 0) {
    writeLine(2, `boxinit: usage: nothing to run: no services in ${config.source ?? `${DEFAULT_CONFIG_PATH} (not found)`} and no command (boxinit [OPTIONS] -- CMD [ARGS...], see boxinit --help)\n`);
    return EXIT.usage;
  }
  const log = await createLogger(args.logFormat, args.verbosity);
  return runMiniVm({ config, command: args.command, rewrites: args.rewrites, remaps: args.remaps, preserveFds: args.preserveFds }, log, faults);
};

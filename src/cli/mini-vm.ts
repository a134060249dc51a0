// `boxinit [OPTIONS] [-- CMD]` in Mini-VM mode: load and validate the config
// (every problem at once, exit 2 before anything starts), then run it.
import { createLogger, writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import type { FaultHandle } from "../pid1/run-command.ts";
import { DEFAULT_CONFIG_PATH } from "../config/defaults.ts";
import { runMiniVm } from "../supervisor/mini-vm.ts";
import type { InitArgs } from "./args.ts";
import { loadConfigOrReport } from "./config-errors.ts";
import { liveOwnerOf } from "../control/state-dir-owner.ts";

/** Run the configured container; resolves to the exit code. */
export const miniVmCommand = async (args: InitArgs, faults: FaultHandle, why: string): Promise<number> => {
  const config = await loadConfigOrReport(args);
  if (!config) return EXIT.usage;
  const hasSchedules = config.jobs.some((job) => job.schedule !== undefined);
  if (config.services.length === 0 && args.command.length === 0 && !hasSchedules) {
    writeLine(2, `boxinit: usage: nothing to run: no services or scheduled jobs in ${config.source ?? `${DEFAULT_CONFIG_PATH} (not found)`} and no command (boxinit [OPTIONS] -- CMD [ARGS...], see boxinit --help)\n`);
    return EXIT.usage;
  }
  const owner = liveOwnerOf(config.stateDir);
  if (owner) {
    writeLine(2, `boxinit: usage: state directory ${config.stateDir} is in use by a running boxinit (pid ${owner.pid}, state ${owner.state}): nothing was started; look at it with "boxinit status --state-dir ${config.stateDir}", or give this run its own --state-dir\n`);
    return EXIT.usage;
  }
  const log = await createLogger(args.logFormat, args.verbosity);
  // A tini-style user whose image happens to ship /etc/boxinit must be able to see why.
  log.log(args.command.length > 0 ? "info" : "debug", "config", `Mini-VM mode: ${why}`);
  return runMiniVm({ config, command: args.command, rewrites: args.rewrites, remaps: args.remaps, preserveFds: args.preserveFds, parentDeathSignal: args.parentDeathSignal }, log, faults);
};

// `boxinit check`: validate the config (file and BOXINIT_* overrides) and
// print the start plan, starting nothing. Exit 0 when valid, 2 when not.
import { writeLine } from "../log/logger.ts";
import { EXIT } from "../pid1/exit-code.ts";
import { describePlan } from "../config/plan.ts";
import { loadConfigOrReport } from "./config-errors.ts";
import type { CommonOptions } from "./common-options.ts";

/** Run `boxinit check`. */
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

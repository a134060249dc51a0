// Loading the config for a run (Mini-VM mode, a job, `boxinit check`) and
// reporting every problem at once, each line naming the file (or variable)
// and the path inside it.
import { writeLine } from "../log/logger.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";

/** The options every config-reading command takes. */
export interface ConfigArgs {
  configPath?: string;
  stateDir?: string;
  graceMs?: number;
  isGraceExplicit?: boolean;
  /** See LoadOptions.resolveUsersOf. */
  resolveUsersOf?: "all" | "jobs";
}

/** Load and validate; print problems and return undefined when there are any. */
export const loadConfigOrReport = async (args: ConfigArgs): Promise<Config | undefined> => {
  const result = await loadConfig({
    path: args.configPath,
    env: process.env,
    overrides: { stateDir: args.stateDir, graceMs: args.isGraceExplicit ? args.graceMs : undefined },
    ...(args.resolveUsersOf !== undefined && { resolveUsersOf: args.resolveUsersOf }),
  });
  if (!result.ok) {
    const count = `${result.errors.length} problem${result.errors.length === 1 ? "" : "s"}`;
    writeLine(2, `boxinit: config: ${result.source ?? "the configuration"}: ${count}; nothing was started\n`);
    for (const error of result.errors) writeLine(2, `  ${error}\n`);
    return undefined;
  }
  for (const warning of result.warnings) writeLine(2, `boxinit: warning: config: ${warning}\n`);
  return result.config;
};

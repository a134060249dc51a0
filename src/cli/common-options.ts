// The options shared by the commands that run beside PID 1 (status, backoff,
// health, check): where the config and the state directory are.
import { readRegularFile } from "../control/atomic-write.ts";
import { loadConfig } from "../config/load.ts";
import { parseYamlText } from "../config/yaml-text.ts";
import { writeLine } from "../log/logger.ts";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";

export interface CommonOptions {
  configPath?: string;
  stateDir?: string;
  /** Everything else, in order, for the command itself. */
  rest: string[];
  errors: string[];
}

/** Take --config FILE and --state-dir DIR (also as --x=y) out of argv. */
export const takeCommonOptions = (argv: readonly string[]): CommonOptions => {
  const options: CommonOptions = { rest: [], errors: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (name !== "--config" && name !== "--state-dir") {
      options.rest.push(arg);
      continue;
    }
    const value = eq > 0 && name !== arg ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) options.errors.push(`${name}: expects a value`);
    else if (name === "--config") options.configPath = value;
    else if (!value.startsWith("/")) options.errors.push(`--state-dir: expected an absolute path, got ${JSON.stringify(value)}`);
    else options.stateDir = value;
  }
  return options;
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

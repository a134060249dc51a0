// The options shared by the commands that run beside PID 1 (status, backoff,
// health, check): where the config and the state directory are. Which
// state directory a reader then uses is modes/side.ts's resolveStateDir.

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

// Entry point: picks the command from argv and is the only place that calls
// process.exit. Internal faults never crash PID 1: they are logged, everything
// is stopped within the budget, and boxinit exits 70.
import { writeLine } from "./log/logger.ts";
import { EXIT } from "./pid1/exit-code.ts";
import type { FaultHandle } from "./pid1/run-command.ts";

// Commands of the full product that this build does not have yet: named so a
// user gets a clear answer instead of "command not found" from the shell.
const RESERVED_COMMANDS = new Set(["job", "host"]);

// The commands that run beside PID 1 (inside the container, or on the host
// with --state-dir): one small module each, loaded only when asked for.
const SIDE_COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  status: async (argv) => withStateDir(argv, async (rest, dir) => (await import("./cli/status.ts")).statusCommand(rest, dir)),
  backoff: async (argv) => withStateDir(argv, async (rest, dir) => (await import("./cli/backoff.ts")).backoffCommand(rest, dir)),
  health: async (argv) => withStateDir(argv, async (rest, dir) => (await import("./cli/health.ts")).healthCommand(rest, dir)),
  check: async (argv) => {
    const { takeCommonOptions } = await import("./cli/common-options.ts");
    const options = takeCommonOptions(argv);
    if (options.errors.length > 0) return usageErrors("check", options.errors);
    return (await import("./cli/check.ts")).checkCommand(options);
  },
};

const usageErrors = (command: string, errors: readonly string[]): number => {
  for (const error of errors) writeLine(2, `boxinit ${command}: usage: ${error}\n`);
  return EXIT.usage;
};

const withStateDir = async (argv: readonly string[], run: (rest: string[], stateDir: string) => Promise<number> | number): Promise<number> => {
  const { takeCommonOptions, resolveStateDir } = await import("./cli/common-options.ts");
  const options = takeCommonOptions(argv);
  if (options.errors.length > 0) return usageErrors(String(userArgs[0]), options.errors);
  return run(options.rest, await resolveStateDir(options, process.env));
};

// If an orderly stop after a fault itself hangs, exit anyway: the budget plus this.
const FAULT_EXIT_MARGIN_MS = 2000;

// In a SEA, argv is [executable, argv0-as-invoked, ...args]; from source it is
// [node, script, ...args]. Either way the user's words start at index 2.
const userArgs = process.argv.slice(2);

const faults: FaultHandle = {};

const onFault = (kind: string, error: unknown): void => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  writeLine(2, `boxinit: error: internal-error: ${kind}: ${detail.replace(/\n/g, "\n  ")}\n`);
  // Whatever happens next, the exit code says "internal fault", never 0.
  process.exitCode = EXIT.internal;
  if (!faults.onFault) process.exit(EXIT.internal);
  faults.onFault();
  // Referenced on purpose: an empty event loop must not end PID 1 with the
  // stop unfinished; the orderly stop normally exits long before this fires.
  setTimeout(() => process.exit(EXIT.internal), (faults.graceMs ?? 9000) + FAULT_EXIT_MARGIN_MS);
};

const main = async (): Promise<number> => {
  const first = userArgs[0];
  if (first !== undefined && RESERVED_COMMANDS.has(first)) {
    writeLine(2, `boxinit: usage: "boxinit ${first}" is not available in this version yet\n`);
    return EXIT.usage;
  }
  const side = first !== undefined && Object.hasOwn(SIDE_COMMANDS, first) ? SIDE_COMMANDS[first] : undefined;
  if (side) return side(userArgs.slice(1));
  process.on("uncaughtException", (error) => onFault("uncaught exception", error));
  process.on("unhandledRejection", (error) => onFault("unhandled rejection", error));
  const { initCommand } = await import("./cli/init.ts");
  return initCommand(userArgs, faults);
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    onFault("startup", error);
  },
);

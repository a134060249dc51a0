// Entry point: picks the run from argv (src/modes/) and is the only place
// that calls process.exit. Internal faults never crash PID 1: they are
// logged, everything is stopped within the budget, and boxinit exits 70.
import { writeLine } from "./log/logger.ts";
import { EXIT } from "./pid1/exit-code.ts";
import type { FaultHandle } from "./modes/runtime.ts";
import { loadOwnBundle } from "./modes/bundles.ts";
import { takeNodeEnvironment } from "./pid1/node-env.ts";
import { startAfreshWithoutNodeVariables } from "./pid1/node-env-restart.ts";
import { takeSignalsEarly } from "./pid1/signal-intake.ts";

// The commands that run beside PID 1; their code lives in the "side" bundle.
const SIDE_COMMAND_NAMES = new Set(["status", "backoff", "health", "check", "logs"]);

// If an orderly stop after a fault itself hangs, exit anyway: the budget plus this.
const FAULT_EXIT_MARGIN_MS = 2000;

// In a SEA, argv is [executable, argv0-as-invoked, ...args]; from source it is
// [node, script, ...args]. Either way the user's words start at index 2.
// With boxinit as the image's ENTRYPOINT, `docker run IMAGE boxinit job X -- CMD`
// arrives as `boxinit boxinit job ...`: the inner word names boxinit itself and
// is dropped, so the job runs under this one PID 1, not a nested init.
const isBoxinitItself = (word: string | undefined): boolean => word === "boxinit" || word === "/sbin/boxinit" || word === "/usr/local/bin/boxinit" || word === process.execPath;
const userArgs = isBoxinitItself(process.argv[2]) ? process.argv.slice(3) : process.argv.slice(2);

// `boxinit --state-dir X status` must mean the status command, not PID 1 running
// a program called "status" (which would write the live container's status):
// the options the side commands share may come before the verb.
const verbIndex = (argv: readonly string[]): number => {
  let index = 0;
  for (;;) {
    const arg = argv[index];
    if (arg === "--config" || arg === "--state-dir") index += 2;
    else if (arg !== undefined && /^--(config|state-dir)=/.test(arg)) index += 1;
    else return index;
  }
};

// First of all, in a PID 1 run (not the host tool, not a side command): from
// this line on no signal kills boxinit or is lost (pid1/signal-intake.ts).
const verb = userArgs[verbIndex(userArgs)];
if (verb !== "host" && !(verb !== undefined && SIDE_COMMAND_NAMES.has(verb))) takeSignalsEarly();

// The container's Node variables are the command's, not PID 1's
// (pid1/node-env.ts); those Node acted on before this line make boxinit start
// afresh without them (pid1/node-env-restart.ts).
takeNodeEnvironment();
startAfreshWithoutNodeVariables();

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

// `boxinit [OPTIONS] [-- CMD]`: the tini-style run (main bundle) unless
// anything asks for Mini-VM mode (the mini-vm bundle; cli/init.ts says when).
// Imported here, not at the top: the signals are taken first.
const initRun = async (argv: readonly string[]): Promise<number> => {
  const { takeInitArgs, whyMiniVm } = await import("./cli/init.ts");
  const args = takeInitArgs(argv, process.env);
  if (typeof args === "number") return args;
  const why = whyMiniVm(args, process.env);
  if (why === undefined) return (await import("./modes/tini.ts")).tiniMode(args, faults);
  const { miniVmMode } = await loadOwnBundle("mini-vm");
  return miniVmMode(args, faults, why);
};

const main = async (): Promise<number> => {
  const at = verbIndex(userArgs);
  const first = userArgs[at];
  if (first === "host") {
    if (at > 0) {
      writeLine(2, "boxinit: usage: --config and --state-dir do not apply to host (the book says where the state directory is)\n");
      return EXIT.usage;
    }
    // The host tool, on the Docker host: no PID 1 duties, its own bundle.
    const { hostMode } = await loadOwnBundle("host");
    return hostMode(userArgs.slice(1));
  }
  if (first === "job") {
    process.on("uncaughtException", (error) => onFault("uncaught exception", error));
    process.on("unhandledRejection", (error) => onFault("unhandled rejection", error));
    const { jobMode } = await loadOwnBundle("job");
    return jobMode([...userArgs.slice(0, at), ...userArgs.slice(at + 1)], faults);
  }
  if (first !== undefined && SIDE_COMMAND_NAMES.has(first)) {
    const { SIDE_COMMANDS } = await loadOwnBundle("side");
    return SIDE_COMMANDS[first]!([...userArgs.slice(0, at), ...userArgs.slice(at + 1)]);
  }
  process.on("uncaughtException", (error) => onFault("uncaught exception", error));
  process.on("unhandledRejection", (error) => onFault("unhandled rejection", error));
  return initRun(userArgs);
};

main().then(
  // A fault during a run that still ended (a job's code 0) must not hide: 70 stands.
  (code) => process.exit(process.exitCode === EXIT.internal ? EXIT.internal : code),
  (error: unknown) => {
    onFault("startup", error);
  },
);

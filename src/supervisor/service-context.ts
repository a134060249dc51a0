// What a service is given: the run around it (RunContext: its callbacks) and
// what it does to the system (ServiceSystem: start processes, warm up, read
// pidfiles and /proc, send signals, stop a failed start's leftovers). The
// real system by default; a test passes fakes (RunContext.system) and runs a
// service's whole life without a process.
import type { Logger } from "../log/logger.ts";
import type { Ending } from "../pid1/exit-code.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { LogFilesConfig, ServiceConfig, WarmupConfig } from "../config/types.ts";
import { relayOutput, type LineCopy } from "../log/service-output.ts";
import { LogFile } from "../log/log-file.ts";
import { openLogDir } from "../control/log-dir.ts";
import { addonCheckStarter, type StartCheck } from "./check-process.ts";
import { PIDFILE_READER, type PidfileReader } from "./service-pidfile.ts";
import { SEND_SIGNAL, type ServiceSignals } from "./service-stop.ts";
import { notStartedByShortage, startProcess, type NotStarted, type ProcessSpec, type Started } from "../pid1/start-process.ts";
import { SERVICE_MARKER_VARIABLE, stopLeftovers } from "./start-leftovers.ts";
import { runWarmup, type WarmupOptions, type WarmupOutcome } from "./warmup.ts";

/** What a service needs from the run around it; S is the service (service.ts's Service), named so that this file does not import it. */
export interface RunContext<S> {
  native: Native | undefined;
  reaper: Reaper;
  log: Logger;
  /** Prefix output lines with the service name (several producers share stdout). */
  shouldPrefixOutput: boolean;
  /** log_files: and the state directory it may lie in; absent: no log files. */
  logFiles?: LogFilesConfig & { stateDir: string };
  /** Whether boxinit is shutting down (no restarts then). */
  isStopping: () => boolean;
  /** Something in the status changed. */
  onChange: () => void;
  /** The service ended and will not be restarted. */
  onEndedForGood: (service: S, ending: Ending) => void;
  /** The warm-up timed out during boot and on_timeout is fail. */
  onWarmupFailed: (service: S, problem: string) => void;
  /** Whether the box is still booting (a warm-up failure then fails the boot). */
  isBooting: () => boolean;
  /** The budget for stopping what a failed start left behind (default: the default grace). */
  graceMs?: number;
  /** What the service does to the system (default: the real one over native and reaper); a seam for tests. */
  system?: ServiceSystem;
}

/** What a service does to the system (the seam its tests fill with fakes). */
export interface ServiceSystem {
  /** Start a process (spawn.ts, with the run's addon and reaper); never throws for a bad command. */
  startProcess: (spec: ProcessSpec) => Started | NotStarted;
  runWarmup: (warmup: WarmupConfig, options: WarmupOptions) => Promise<WarmupOutcome>;
  /** How command checks are started (undefined: Node's spawn, in warmup.ts). */
  startCheck: StartCheck | undefined;
  pidfile: PidfileReader;
  signals: ServiceSignals;
  stopLeftovers: typeof stopLeftovers;
}

/** The real system, for a run with this addon (or none) and reaper. */
export const realServiceSystem = (native: Native | undefined, reaper: Reaper): ServiceSystem => ({
  startProcess: (spec) => startProcess(spec, native, reaper),
  runWarmup,
  startCheck: native ? addonCheckStarter(native, reaper) : undefined,
  pidfile: PIDFILE_READER,
  signals: SEND_SIGNAL,
  stopLeftovers,
});

// One writer per file for the whole process, kept across the service's
// restarts and the boots after an idle backoff (each boot makes a new
// context): a writer per context would leak its fds at every boot and pin a
// rotated-out file, and two writers would rotate the same file against each other.
const LOG_FILES = new Map<string, LogFile>();

/** The service's log file, when log_files: is set and the service did not opt out (log_file: false). */
const logFileOf = <S>(context: RunContext<S>, config: Pick<ServiceConfig, "name" | "logFile">): LineCopy | undefined => {
  const settings = context.logFiles;
  if (!settings || !config.logFile) return undefined;
  const { dir, stateDir } = settings;
  const key = `${dir}/${config.name}`;
  let file = LOG_FILES.get(key);
  if (!file) {
    file = new LogFile({
      ...settings, name: config.name, log: context.log, formatLines: context.native?.lineFormatter(),
      openDir: () => openLogDir(dir, stateDir, context.native, true),
    });
    LOG_FILES.set(key, file);
  }
  return file;
};

/**
 * Start argv as the service's process: output pipes when its lines get
 * prefixed or copied to its log file (pipes: the addon), its environment with
 * the marker last (the config cannot remove it: start-leftovers.ts relies on
 * it), directory, user. A shortage of boxinit's own fds, processes or memory
 * comes back as a NotStarted of kind "resources", never as a throw: a
 * service's run is detached, where a throw would be an internal fault.
 */
export const startAsService = <S>(
  system: ServiceSystem,
  config: Pick<ServiceConfig, "name" | "env" | "cwd" | "user" | "logFile">,
  context: RunContext<S>,
  argv: readonly string[],
): Started | NotStarted => {
  let output: ProcessSpec["output"];
  const copyTo = logFileOf(context, config);
  if (context.native && (context.shouldPrefixOutput || copyTo)) {
    try {
      output = relayOutput(context.native, config.name, { prefix: context.shouldPrefixOutput, copyTo });
    } catch (error) {
      const shortage = notStartedByShortage(error, "its output pipes");
      if (!shortage) throw error;
      return shortage;
    }
  }
  const env = { ...config.env, [SERVICE_MARKER_VARIABLE]: config.name };
  return system.startProcess({ argv, env, cwd: config.cwd, user: config.user, output });
};

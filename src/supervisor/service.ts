// One configured service through its life: spawn (or start script + pidfile),
// warm-up, exit and restart policy, orderly stop within a deadline. State
// changes go through the table in service-states.ts.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { ServiceConfig } from "../config/types.ts";
import { EXIT, exitCodeFor, type Ending } from "../pid1/exit-code.ts";
import { killGroup, signalGroup } from "../pid1/send-signal.ts";
import { signalLabel } from "../pid1/signals.ts";
import { liveDescendants, readProcEntry, type ProcEntry } from "../pid1/proc-table.ts";
import { formatDurationMs } from "../config/duration.ts";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { monotonicMs, settleBefore } from "../time/clock.ts";
import { prefixedOutput } from "../log/service-output.ts";
import { environmentFor, notStartedByShortage, startProcess, type NotStarted, type ProcessSpec, type Started } from "./spawn.ts";
import { decideAfterExit, describeEnding, nextRestartDelayMs } from "./restart-policy.ts";
import { isProcessAlive, pidfileIdentity, waitForPidfile, type PidfileIdentity } from "./pidfile.ts";
import { serviceMarker, SERVICE_MARKER_VARIABLE, stopLeftovers, type MovableDeadline, type StartTrace } from "./start-leftovers.ts";
import { runWarmup } from "./warmup.ts";
import { addonCheckStarter } from "./check-process.ts";
import { nextServiceState, isFinalServiceState, type ServiceEvent, type ServiceState } from "./service-states.ts";

// A followed daemon that is not boxinit's child (so never reaped here) is
// noticed gone by polling its pid this often.
const FOLLOW_POLL_MS = 1000;

/** What a service needs from the run around it. */
export interface ServiceContext {
  native: Native | undefined;
  reaper: Reaper;
  log: Logger;
  /** Prefix output lines with the service name (several producers share stdout). */
  shouldPrefixOutput: boolean;
  /** Whether boxinit is shutting down (no restarts then). */
  isStopping: () => boolean;
  /** Something in the status changed. */
  onChange: () => void;
  /** The service ended and will not be restarted. */
  onEndedForGood: (service: Service, ending: Ending) => void;
  /** The warm-up timed out during boot and on_timeout is fail. */
  onWarmupFailed: (service: Service, problem: string) => void;
  /** Whether the box is still booting (a warm-up failure then fails the boot). */
  isBooting: () => boolean;
  /** The budget for stopping what a failed start left behind (default: the default grace). */
  graceMs?: number;
}

/** The part of the status file about one service. */
export interface ServiceSnapshot {
  state: ServiceState;
  pid: number | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  readyAt: string | null;
}

/** What a stop did, for the shutdown's exit code and log. */
export interface StopOutcome {
  /** The stop command's exit code, when there is one and it ended. */
  stopCode?: number;
  /** Processes that got SIGKILL at the deadline. */
  killed: ProcEntry[];
}


/** The process group to signal for a pid: its own group, unless that is boxinit's. */
const groupOf = (pid: number): number | undefined => {
  const entry = readProcEntry(pid);
  const own = readProcEntry("self");
  if (entry && entry.pgrp > 1 && entry.pgrp !== own?.pgrp && entry.pgrp !== process.pid) return entry.pgrp;
  return undefined;
};

/**
 * Why a pid read from a pidfile must not be followed, or undefined when it may:
 * a stale or hostile pidfile could name boxinit itself, its own process group,
 * or a process that has nothing to do with this container (subreaper mode),
 * which a stop would then signal. A daemon the start command forked is always
 * boxinit's descendant: it is re-parented to boxinit (PID 1 or subreaper).
 */
export const pidfileRefusal = (pid: number): string | undefined => {
  if (pid === process.pid) return `it names boxinit itself (pid ${pid})`;
  const own = readProcEntry("self");
  if (own && readProcEntry(pid)?.pgrp === own.pgrp) return `pid ${pid} is in boxinit's own process group`;
  if (!liveDescendants().some((entry) => entry.pid === pid)) return `pid ${pid} is not a process started by this service (not a descendant of boxinit)`;
  return undefined;
};

// SIGKILL to a group (or a lone pid) and say who was in it.
const killNow = (pid: number, pgid: number | undefined): ProcEntry[] => {
  if (pgid !== undefined) return killGroup(pgid);
  const live = liveDescendants().filter((entry) => entry.pid === pid);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // ESRCH: it went by itself in the meantime.
  }
  return live;
};

export class Service {
  readonly config: ServiceConfig;
  readonly #context: ServiceContext;
  #state: ServiceState = "pending";
  /** The process followed: the service itself, or the daemon named by the pidfile. */
  #pid: number | null = null;
  #pgid: number | undefined;
  #ended: Promise<Ending> | undefined;
  /** A pidfile service's start command while it runs. */
  #starter: { pid: number; ended: Promise<Ending> } | undefined;
  #restarts = 0;
  #consecutiveRestarts = 0;
  #lastExit: ServiceSnapshot["lastExit"] = null;
  #readyAt: string | null = null;
  #abort = new AbortController();
  #restartTimer: NodeJS.Timeout | undefined;
  /** Where this run's processes can be found, for stopping them when it does not come up. */
  #trace: StartTrace | undefined;
  /** Stopping what a failed start left behind; a stop that comes meanwhile waits for it. */
  #cleanup: { done: Promise<unknown>; deadline: MovableDeadline } | undefined;
  /** The first failure of the current series of restarts in a row: the cause worth reporting. */
  #firstFailure: string | undefined;
  /** Starts in a row that a shortage of boxinit's own resources prevented (see #retryAfterShortage). */
  #shortagesInRow = 0;
  #resolveReady: (isReady: boolean) => void = () => {};
  /** True once the first warm-up passed; false when it ended for good (or was stopped) before. */
  readonly ready: Promise<boolean>;

  constructor(config: ServiceConfig, context: ServiceContext) {
    this.config = config;
    this.#context = context;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  get name(): string {
    return this.config.name;
  }

  get state(): ServiceState {
    return this.#state;
  }

  snapshot(): ServiceSnapshot {
    return { state: this.#state, pid: this.#pid, restarts: this.#restarts, lastExit: this.#lastExit, readyAt: this.#readyAt };
  }

  /** Begin the first run; progress is reported through the context. */
  start(): void {
    if (this.#move("start", "starting")) void this.#run();
  }

  #move(event: ServiceEvent, to: ServiceState): boolean {
    const next = nextServiceState(this.#state, event, to);
    if (next === undefined) {
      this.#context.log.error("internal-error", "bug: service state change not in the table", { service: this.name, from: this.#state, event, to });
      return false;
    }
    if (next !== this.#state) {
      this.#state = next;
      this.#context.onChange();
    }
    return true;
  }

  // Its output pipes, then the process. A shortage of boxinit's own fds,
  // processes or memory comes back as a NotStarted of kind "resources", never
  // as a throw: #run runs detached, where a throw would be an internal fault.
  #startProcess(argv: readonly string[]): Started | NotStarted {
    const { native, reaper } = this.#context;
    let output: ProcessSpec["output"];
    if (this.#context.shouldPrefixOutput && native) {
      try {
        output = prefixedOutput(native, this.name);
      } catch (error) {
        const shortage = notStartedByShortage(error, "its output pipes");
        if (!shortage) throw error;
        return shortage;
      }
    }
    // The marker comes last: the config cannot remove it (start-leftovers.ts relies on it).
    const env = { ...this.config.env, [SERVICE_MARKER_VARIABLE]: this.name };
    return startProcess({ argv, env, cwd: this.config.cwd, user: this.config.user, output }, native, reaper);
  }

  async #run(): Promise<void> {
    const { log } = this.#context;
    this.#abort = new AbortController();
    // Nothing of the previous run may be signalled or waited for in this one.
    this.#pid = null;
    this.#pgid = undefined;
    this.#ended = undefined;
    this.#starter = undefined;
    this.#trace = undefined;
    const begunAt = monotonicMs();
    // The pidfile is the application's (postmaster.pid is PostgreSQL's lock):
    // never removed; what it is now tells an old one from the one this start writes.
    const pidfileBefore = this.config.pidfile ? pidfileIdentity(this.config.pidfile) : undefined;
    const started = this.#startProcess(this.config.command);
    if ("problem" in started) {
      if (started.kind === "resources") return this.#retryAfterShortage(started.problem);
      log.error("spawn-failed", `service ${this.name}: cannot start ${started.problem}`, { service: this.name, exitCode: started.exitCode });
      return this.#afterExit({ code: started.exitCode, signal: null }, 0, { cannotRun: "it cannot be run at all" });
    }
    this.#shortagesInRow = 0;
    this.#trace = { starterPid: started.pid, service: this.name };
    log.info("spawned", `started service ${this.name}`, { service: this.name, pid: started.pid, command: this.config.command });
    if (this.config.pidfile) {
      const followed = await this.#followPidfile(this.config.pidfile, pidfileBefore, started, begunAt);
      if (!followed) return;
    } else {
      this.#follow(started.pid, started.pid, started.ended, begunAt);
    }
    if (this.#state !== "starting") return; // stopped (or exited) meanwhile
    if (!this.config.warmup) {
      this.#move("spawned", "running");
      return this.#becameReady();
    }
    this.#move("spawned", "warming");
    const outcome = await runWarmup(this.config.warmup, {
      service: this.name,
      log,
      signal: this.#abort.signal,
      // A command check runs as the service would: its environment, directory and user.
      env: environmentFor(this.config),
      cwd: this.config.cwd,
      user: process.getuid?.() === 0 ? this.config.user : undefined,
      startCheck: this.#context.native ? addonCheckStarter(this.#context.native, this.#context.reaper) : undefined,
    });
    if ((this.#state as ServiceState) !== "warming") return;
    if (outcome.outcome === "ready") {
      this.#move("warmup-passed", "running");
      return this.#becameReady();
    }
    if (outcome.outcome === "aborted") return;
    const problem = `warm-up did not pass within ${formatDurationMs(this.config.warmup.timeoutMs)} (${outcome.tries} tries; last: ${outcome.lastProblem})`;
    if (this.config.warmup.onTimeout === "continue") {
      log.warn("warmup", `service ${this.name}: ${problem}; on_timeout: continue`, { service: this.name });
      this.#move("warmup-passed", "running");
      return this.#becameReady();
    }
    log.error("warmup", `service ${this.name}: ${problem}`, { service: this.name });
    if (this.#context.isBooting()) return this.#context.onWarmupFailed(this, problem);
    // After boot (a restart's warm-up) it is a failed run: stopped like any
    // start that did not come up, then the restart policy decides.
    return this.#failStart(`service ${this.name}: ${problem}`, { code: EXIT.unavailable, signal: null }, begunAt);
  }

  // Not started because boxinit ran short of fds, processes or memory: not
  // the service's failure, so neither its restart policy nor its restart
  // count applies (nothing ran). Tried again after its restart delay,
  // doubled for each shortage in a row up to restart_max_delay, until it
  // starts or the box stops; status shows it as restarting meanwhile.
  #retryAfterShortage(problem: string): void {
    const delayMs = nextRestartDelayMs(this.#shortagesInRow, this.config.restartDelayMs, this.config.restartMaxDelayMs);
    this.#shortagesInRow++;
    this.#context.log.warn("spawn-deferred", `service ${this.name}: cannot start it now: ${problem}; not the service's fault: trying again in ${formatDurationMs(delayMs)}`, {
      service: this.name,
      attempt: this.#shortagesInRow,
    });
    if (!this.#move("deferred", "restarting")) return;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      // As for a restart: a stop that began meanwhile takes it from "restarting".
      if (this.#context.isStopping()) return;
      if (this.#move("restart-due", "starting")) void this.#run();
    }, delayMs);
  }

  #becameReady(): void {
    this.#readyAt = new Date().toISOString();
    this.#context.onChange();
    this.#resolveReady(true);
  }

  // A start that did not come up (the start command hung or failed, the
  // pidfile, a warm-up after boot): what it left behind is stopped first, its
  // stop command then the stop signal, SIGKILL only at the deadline, so a
  // retry starts clean; then the restart policy decides, with this cause.
  async #failStart(problem: string, ending: Ending, begunAt: number): Promise<void> {
    const { log } = this.#context;
    const stateAtFailure = this.#state;
    const trace = this.#trace;
    const followed = this.#pid;
    // Detached first: the followed process's end is this cleanup's doing, not a new exit.
    this.#pid = null;
    this.#pgid = undefined;
    this.#starter = undefined;
    this.#context.onChange();
    const budgetMs = this.#context.graceMs ?? GLOBAL_DEFAULTS.graceMs;
    const deadline: MovableDeadline = { at: monotonicMs() + budgetMs };
    const cleanup = (async () => {
      if (this.config.stop) {
        // Two thirds for the stop command, the rest for the stop signal to what it left.
        const stopCommandDeadline = monotonicMs() + (budgetMs * 2) / 3;
        await this.#runStopCommand(this.config.stop, Math.min(stopCommandDeadline, deadline.at), { killed: [] });
      }
      if (trace) await stopLeftovers({ ...trace, ...(followed !== null && { followedPid: followed }) }, this.config.stopSignal, deadline, log);
    })();
    this.#cleanup = { done: cleanup, deadline };
    try {
      await cleanup;
    } catch (error) {
      log.error("internal-error", `service ${this.name}: stopping what the failed start left behind failed: ${(error as Error).message}`, { service: this.name });
    } finally {
      this.#cleanup = undefined;
    }
    if (this.#state !== stateAtFailure) return; // a stop took over meanwhile
    this.#afterExit(ending, monotonicMs() - begunAt, { problem });
  }

  // The start command forks the daemon and exits 0; the daemon's pid comes
  // from the pidfile. Processes reaped meanwhile are remembered, so a daemon
  // that dies before its pidfile is read still reports its real ending.
  async #followPidfile(pidfile: string, before: PidfileIdentity | undefined, starter: { pid: number; ended: Promise<Ending> }, begunAt: number): Promise<boolean> {
    const { log, reaper } = this.#context;
    const reaped = new Map<number, Ending>();
    const stopCollecting = reaper.onReaped((pid, ending) => reaped.set(pid, ending));
    try {
      this.#pid = starter.pid;
      this.#pgid = starter.pid;
      this.#starter = starter;
      const startDeadline = monotonicMs() + this.config.pidfileTimeoutMs;
      const startEnding = await settleBefore(Promise.race([starter.ended, this.#aborted()]), startDeadline);
      if (this.#state !== "starting") return false;
      const fail = (problem: string, ending: Ending = { code: EXIT.unavailable, signal: null }): false => {
        log.error("pidfile", `service ${this.name}: ${problem}`, { service: this.name });
        void this.#failStart(`service ${this.name}: ${problem}`, ending, begunAt);
        return false;
      };
      if (startEnding === undefined) {
        // Still this service's to stop: #failStart sends it TERM (after the stop command), not SIGKILL.
        return fail(`the start command did not exit within pidfile_timeout (${formatDurationMs(this.config.pidfileTimeoutMs)}): a pidfile service's command must fork and exit (a foreground command needs no pidfile:)`);
      }
      this.#starter = undefined;
      this.#pid = null;
      this.#pgid = undefined;
      if (startEnding.code !== 0) return fail(`the start command ${describeEnding(startEnding)}`, startEnding);
      // One deadline covers the start command and the wait: name the setting, not the time left.
      const found = await waitForPidfile(pidfile, Math.max(0, startDeadline - monotonicMs()), {
        before,
        signal: this.#abort.signal,
        timeoutLabel: `pidfile_timeout (${formatDurationMs(this.config.pidfileTimeoutMs)}, counted from the start command's launch)`,
      });
      if (this.#state !== "starting") return false;
      if ("problem" in found) return fail(found.problem);
      const refusal = reaped.has(found.pid) ? undefined : pidfileRefusal(found.pid);
      if (refusal) return fail(`pidfile ${pidfile} cannot be followed: ${refusal}`);
      log.info("pidfile", `service ${this.name}: following pid ${found.pid} from ${pidfile}`, { service: this.name, pid: found.pid });
      const early = reaped.get(found.pid);
      this.#follow(found.pid, groupOf(found.pid), early ? Promise.resolve(early) : this.#daemonEnded(found.pid), begunAt);
      return true;
    } finally {
      stopCollecting();
    }
  }

  #aborted(): Promise<undefined> {
    const signal = this.#abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) resolve(undefined);
      else signal.addEventListener("abort", () => resolve(undefined), { once: true });
    });
  }

  // The daemon was re-parented to boxinit (PID 1 or subreaper), so the reaper
  // sees its exit; the poll covers a daemon that somehow is not our child.
  #daemonEnded(pid: number): Promise<Ending> {
    const { reaper, log } = this.#context;
    // Our child: the reaper reports its end, no need to look every second.
    const isOurChild = readProcEntry(pid)?.ppid === process.pid;
    return new Promise((resolve) => {
      const poll = isOurChild ? undefined : setInterval(() => {
        if (isProcessAlive(pid)) return;
        finish();
        log.warn("child-exited", `service ${this.name}: pid ${pid} is gone but was not boxinit's child: its exit status is unknown`, { service: this.name });
        resolve({ code: 1, signal: null });
      }, FOLLOW_POLL_MS);
      const stopListening = reaper.onReaped((reapedPid, ending) => {
        if (reapedPid !== pid) return;
        finish();
        resolve(ending);
      });
      const finish = (): void => {
        clearInterval(poll);
        stopListening();
      };
    });
  }

  #follow(pid: number, pgid: number | undefined, ended: Promise<Ending>, begunAt: number): void {
    this.#pid = pid;
    this.#pgid = pgid;
    this.#ended = ended;
    this.#context.onChange();
    void ended.then((ending) => {
      if (this.#pid !== pid) return;
      this.#pid = null;
      this.#abort.abort();
      if (this.#state === "stopping") return; // stop() waits for this same promise
      this.#afterExit(ending, monotonicMs() - begunAt);
    });
  }

  #afterExit(ending: Ending, ranForMs: number, why: { cannotRun?: string; problem?: string } = {}): void {
    const { log } = this.#context;
    const { cannotRun } = why;
    this.#pid = null;
    // A run that lasted ends a series of failures; the first of a new series is its cause.
    if (this.#consecutiveRestarts === 0 || ranForMs >= this.config.stableAfterMs) this.#firstFailure = why.problem ?? describeEnding(ending);
    this.#lastExit = { code: ending.code, signal: ending.signal === null ? null : signalLabel(ending.signal), at: new Date().toISOString() };
    const decision = cannotRun
      ? { action: "give-up" as const, reason: `${describeEnding(ending)}: ${cannotRun}` }
      : decideAfterExit({
          policy: this.config.restart,
          ending,
          ranForMs,
          consecutiveRestarts: this.#consecutiveRestarts,
          maxRestarts: this.config.maxRestarts,
          stableAfterMs: this.config.stableAfterMs,
          restartDelayMs: this.config.restartDelayMs,
          restartMaxDelayMs: this.config.restartMaxDelayMs,
          isStopping: this.#context.isStopping(),
        });
    if (decision.action === "restart") {
      log.warn("service-exited", `service ${this.name} ${describeEnding(ending)}; restarting in ${formatDurationMs(decision.delayMs)}`, {
        service: this.name,
        restart: this.#restarts + 1,
      });
      this.#consecutiveRestarts = decision.consecutiveRestarts;
      this.#move("exited", "restarting");
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = undefined;
        // The stop may have begun while this timer ran; stop() then takes it from "restarting".
        if (this.#context.isStopping()) return;
        // status.json's restarts counts restarts done; the log names the one to come.
        this.#restarts++;
        if (this.#move("restart-due", "starting")) void this.#run();
      }, decision.delayMs);
      return;
    }
    const level = decision.action === "give-up" || ending.code !== 0 ? "error" : "info";
    const firstCause = decision.action === "give-up" && this.#firstFailure !== undefined && this.#firstFailure !== why.problem
      ? ` (the first failure of this series: ${this.#firstFailure})`
      : "";
    log.log(level, "service-exited", `service ${this.name}: ${decision.reason}${decision.action === "give-up" ? `; giving up${firstCause}` : ""}`, {
      service: this.name,
      code: exitCodeFor(ending),
    });
    this.#move("exited", ending.code === 0 ? "exited" : "failed");
    this.#resolveReady(false);
    this.#context.onEndedForGood(this, ending);
  }

  /** Drop a pending restart (the stop has begun; stop() comes later in the order). */
  cancelRestart(): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
  }

  /** Forward a signal to the service's process group (signals boxinit does not act on itself). */
  forwardSignal(signal: number): void {
    if (this.#pid === null) return;
    try {
      if (this.#pgid !== undefined) signalGroup(this.#pgid, signal);
      else process.kill(this.#pid, signal);
    } catch {
      // ESRCH: it ended meanwhile; its exit is handled elsewhere.
    }
  }

  /** Stop it: stop command (then the stop signal if it still runs) or the stop signal; SIGKILL at the deadline. */
  async stop(deadline: number): Promise<StopOutcome> {
    const { log } = this.#context;
    clearTimeout(this.#restartTimer);
    this.#abort.abort();
    this.#resolveReady(false);
    if (isFinalServiceState(this.#state)) return { killed: [] };
    if (this.#state === "pending" || this.#state === "restarting") {
      this.#move("stop", "stopped");
      return { killed: [] };
    }
    this.#move("stop", "stopping");
    const outcome: StopOutcome = { killed: [] };
    const cleanup = this.#cleanup;
    if (cleanup) {
      // A failed start's leftovers are being stopped: that is this service's stop, now by this deadline.
      cleanup.deadline.at = Math.min(cleanup.deadline.at, deadline);
      await settleBefore(cleanup.done, deadline + 1000);
    }
    const starter = this.#starter;
    if (starter) {
      // Boot was interrupted while the start script ran: it is what there is to stop.
      signalGroup(starter.pid, this.config.stopSignal);
      if ((await settleBefore(starter.ended, deadline)) === undefined) outcome.killed.push(...killNow(starter.pid, starter.pid));
    }
    if (this.#pid !== null && this.#ended) {
      const pid = this.#pid;
      if (this.config.stop) {
        outcome.stopCode = await this.#runStopCommand(this.config.stop, deadline, outcome);
        // A stop command that returned while the service still runs (it only
        // asked, or it failed): the stop signal follows, as runit and s6 do.
        if (this.#pid === pid && isProcessAlive(pid)) this.#sendStopSignal(pid);
      } else {
        this.#sendStopSignal(pid);
      }
      if ((await settleBefore(this.#ended, deadline)) === undefined) {
        log.warn("phase-overran", `service ${this.name} did not stop in time`, { service: this.name, phase: "services" });
        outcome.killed.push(...killNow(pid, this.#pgid));
        await settleBefore(this.#ended, monotonicMs() + 1000);
      } else {
        const ending = await this.#ended;
        this.#lastExit = { code: ending.code, signal: ending.signal === null ? null : signalLabel(ending.signal), at: new Date().toISOString() };
      }
      this.#pid = null;
    }
    this.#move("stop-done", "stopped");
    log.info("service-stopped", `service ${this.name} stopped`, { service: this.name, stopCode: outcome.stopCode });
    return outcome;
  }

  #sendStopSignal(pid: number): void {
    const signal = this.config.stopSignal;
    let result: string;
    try {
      if (this.#pgid !== undefined) result = signalGroup(this.#pgid, signal);
      else {
        process.kill(pid, signal);
        result = "sent";
      }
    } catch (error) {
      result = (error as NodeJS.ErrnoException).code ?? "failed";
    }
    this.#context.log.info("shutdown", `sent ${signalLabel(signal)} to service ${this.name}`, { service: this.name, pid, pgid: this.#pgid, result });
  }

  async #runStopCommand(argv: readonly string[], deadline: number, outcome: StopOutcome): Promise<number | undefined> {
    const { log } = this.#context;
    const started = this.#startProcess(argv);
    if ("problem" in started) {
      log.error("spawn-failed", `service ${this.name}: cannot run the stop command ${started.problem}; sending its stop signal instead`, { service: this.name });
      if (this.#pid !== null) this.#sendStopSignal(this.#pid);
      return started.exitCode;
    }
    log.info("shutdown", `running the stop command of service ${this.name}`, { service: this.name, pid: started.pid, command: [...argv] });
    const ending = await settleBefore(started.ended, deadline);
    if (ending === undefined) {
      log.warn("phase-overran", `the stop command of service ${this.name} did not finish in time`, { service: this.name, phase: "services" });
      outcome.killed.push(...killNow(started.pid, started.pid));
      return EXIT.killed;
    }
    const code = exitCodeFor(ending);
    log.log(code === 0 ? "info" : "warn", "shutdown", `the stop command of service ${this.name} ${describeEnding(ending)}`, { service: this.name, code });
    return code;
  }
}

// One configured service through its life: spawn (or start script + pidfile), warm-up,
// exit and restart, orderly stop within a deadline. State changes go through the table in
// service-states.ts. Following a daemon is service-pidfile.ts's, the restart decision
// service-restart.ts's, stopping service-stop.ts's; the system is reached through ServiceSystem.
import type { ServiceConfig } from "../config/types.ts";
import type { ServiceStatus } from "../control/status-file.ts";
import { EXIT, exitCodeFor, type Ending } from "../pid1/exit-code.ts";
import { formatDurationMs } from "../config/duration.ts";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { monotonicMs } from "../time/clock.ts";
import type { NotStarted, Started } from "../pid1/start-process.ts";
import { lastExitOf, Restarts, type ExitWhy } from "./service-restart.ts";
import { awaitDaemon, type Daemon, type DaemonStart, type Starter } from "./service-pidfile.ts";
import { forwardTo, sendStopSignal, stopFailedStart, stopFollowed, stopStartInProgress, type StopCommandRun, type StopOutcome } from "./service-stop.ts";
import { realServiceSystem, startAsService, type RunContext, type ServiceSystem } from "./service-context.ts";
import { judgeWarmup, runServiceWarmup } from "./service-warmup.ts";
import type { MovableDeadline, StartTrace } from "./start-leftovers.ts";
import { nextServiceState, isFinalServiceState, type ServiceEvent, type ServiceState } from "./service-states.ts";
import { isoTime } from "../time/iso-time.ts";

/** What a service needs from the run around it (service-context.ts). */
export type ServiceContext = RunContext<Service>;

export class Service {
  readonly config: ServiceConfig;
  readonly #context: ServiceContext;
  readonly #system: ServiceSystem;
  #state: ServiceState = "pending";
  /** The process followed: the service itself, the daemon named by the pidfile, or its start command while it runs. */
  #pid: number | null = null;
  #pgid: number | undefined;
  #ended: Promise<Ending> | undefined;
  /** A pidfile service's start command while it runs. */
  #starter: Starter | undefined;
  readonly #restarts = new Restarts();
  #lastExit: ServiceStatus["lastExit"] = null;
  #readyAt: string | null = null;
  #abort = new AbortController();
  /** Where this run's processes can be found, for stopping them when it does not come up. */
  #trace: StartTrace | undefined;
  /** Stopping what a failed start left behind; a stop that comes meanwhile waits for it. */
  #cleanup: { done: Promise<unknown>; deadline: MovableDeadline } | undefined;
  #resolveReady: (isReady: boolean) => void = () => {};
  /** True once the first warm-up passed; false when it ended for good (or was stopped) before. */
  readonly ready: Promise<boolean>;

  constructor(config: ServiceConfig, context: ServiceContext) {
    this.config = config;
    this.#context = context;
    this.#system = context.system ?? realServiceSystem(context.native, context.reaper);
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  get name(): string { return this.config.name; }

  get state(): ServiceState { return this.#state; }

  /** The part of the status file about this service. */
  snapshot(): ServiceStatus<ServiceState> {
    return { state: this.#state, pid: this.#pid, restarts: this.#restarts.done, lastExit: this.#lastExit, readyAt: this.#readyAt };
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

  readonly #startProcess = (argv: readonly string[]): Started | NotStarted =>
    startAsService(this.#system, this.config, this.#context, argv);

  async #run(): Promise<void> {
    const { log } = this.#context;
    this.#abort = new AbortController();
    // Nothing of the previous run may be signalled or waited for in this one.
    this.#detach();
    this.#ended = undefined;
    this.#trace = undefined;
    const begunAt = monotonicMs();
    // The pidfile is the application's (postmaster.pid is PostgreSQL's lock):
    // never removed; what it is now tells an old one from the one this start writes.
    const pidfileBefore = this.config.pidfile ? this.#system.pidfile.identity(this.config.pidfile) : undefined;
    const started = this.#startProcess(this.config.command);
    if ("problem" in started) {
      if (started.kind === "resources") return this.#retryAfterShortage(started.problem);
      log.error("spawn-failed", `service ${this.name}: cannot start ${started.problem}`, { service: this.name, exitCode: started.exitCode });
      return this.#afterExit({ code: started.exitCode, signal: null }, 0, { cannotRun: "it cannot be run at all" });
    }
    this.#restarts.started();
    this.#trace = { starterPid: started.pid, service: this.name };
    log.info("spawned", `started service ${this.name}`, { service: this.name, pid: started.pid, command: this.config.command });
    if (this.config.pidfile) {
      const daemon = await awaitDaemon(this.#daemonStart(begunAt), this.config.pidfile, pidfileBefore, started);
      if (!daemon) return;
      this.#follow(daemon, begunAt);
    } else {
      this.#follow({ pid: started.pid, pgid: started.pid, ended: started.ended }, begunAt);
    }
    if (this.#state !== "starting") return; // stopped (or exited) meanwhile
    return this.#warmUp(begunAt);
  }

  // Running at once without a warm-up; else warming until it passes.
  async #warmUp(begunAt: number): Promise<void> {
    const warmup = this.config.warmup;
    if (!warmup) {
      this.#move("spawned", "running");
      return this.#becameReady();
    }
    this.#move("spawned", "warming");
    const outcome = await runServiceWarmup(this.#system, this.config, warmup, this.#context.log, this.#abort.signal);
    if ((this.#state as ServiceState) !== "warming") return;
    const verdict = judgeWarmup(outcome, this.name, warmup, this.#context.log);
    if (verdict.kind === "aborted") return;
    if (verdict.kind === "ready") {
      this.#move("warmup-passed", "running");
      return this.#becameReady();
    }
    if (this.#context.isBooting()) return this.#context.onWarmupFailed(this, verdict.problem);
    // After boot (a restart's warm-up) it is a failed run: stopped like any
    // start that did not come up, then the restart policy decides.
    return this.#failStart(`service ${this.name}: ${verdict.problem}`, { code: EXIT.unavailable, signal: null }, begunAt);
  }

  // Not started because boxinit ran short of fds, processes or memory
  // (service-restart.ts's shortageDelayMs); status shows it as restarting
  // meanwhile, and it is tried again until it starts or the box stops.
  #retryAfterShortage(problem: string): void {
    const delayMs = this.#restarts.shortage(this.config);
    this.#context.log.warn("spawn-deferred", `service ${this.name}: cannot start it now: ${problem}; not the service's fault: trying again in ${formatDurationMs(delayMs)}`, {
      service: this.name,
      attempt: this.#restarts.shortagesInRow,
    });
    if (this.#move("deferred", "restarting")) this.#startAgainAfter(delayMs, false);
  }

  // A run again after delayMs; isRestart: it counts in status.json's restarts.
  #startAgainAfter(delayMs: number, isRestart: boolean): void {
    this.#restarts.schedule(delayMs, () => {
      // The stop may have begun while this timer ran; stop() then takes it from "restarting".
      if (this.#context.isStopping()) return;
      // status.json's restarts counts restarts done; the log named the one to come.
      if (isRestart) this.#restarts.done++;
      if (this.#move("restart-due", "starting")) void this.#run();
    });
  }

  // Nothing followed any more: its end, or a signal, is no longer this service's business.
  #detach(): void {
    this.#pid = null;
    this.#pgid = undefined;
    this.#starter = undefined;
  }

  #becameReady(): void {
    this.#readyAt = isoTime();
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
    this.#detach();
    this.#context.onChange();
    const leftovers = trace && { ...trace, ...(followed !== null && { followedPid: followed }) };
    const budgetMs = this.#context.graceMs ?? GLOBAL_DEFAULTS.graceMs;
    const cleanup = stopFailedStart(this.#stopCommandRun(), this.config, leftovers, budgetMs, this.#system.stopLeftovers);
    this.#cleanup = cleanup;
    try {
      await cleanup.done;
    } catch (error) {
      log.error("internal-error", `service ${this.name}: stopping what the failed start left behind failed: ${(error as Error).message}`, { service: this.name });
    } finally {
      this.#cleanup = undefined;
    }
    if (this.#state !== stateAtFailure) return; // a stop took over meanwhile
    this.#afterExit(ending, monotonicMs() - begunAt, { problem });
  }

  // What following a pidfile's daemon needs of this service (service-pidfile.ts).
  #daemonStart(begunAt: number): DaemonStart {
    return {
      config: this.config,
      context: this.#context,
      reader: this.#system.pidfile,
      signal: this.#abort.signal,
      isStarting: () => this.#state === "starting",
      holdStarter: (starter) => {
        this.#starter = starter;
        this.#pid = starter?.pid ?? null;
        this.#pgid = starter?.pid;
      },
      fail: (problem, ending) => void this.#failStart(problem, ending, begunAt),
    };
  }

  #follow(daemon: Daemon, begunAt: number): void {
    const { pid } = daemon;
    this.#pid = pid;
    this.#pgid = daemon.pgid;
    this.#ended = daemon.ended;
    this.#context.onChange();
    void daemon.ended.then((ending) => {
      if (this.#pid !== pid) return;
      this.#pid = null;
      this.#abort.abort();
      if (this.#state === "stopping") return; // stop() waits for this same promise
      this.#afterExit(ending, monotonicMs() - begunAt);
    });
  }

  #afterExit(ending: Ending, ranForMs: number, why: ExitWhy = {}): void {
    const { log } = this.#context;
    this.#pid = null;
    const after = this.#restarts.decide(this.config, ending, ranForMs, why, this.#context.isStopping());
    this.#lastExit = lastExitOf(ending);
    const { decision } = after;
    if (decision.action === "restart") {
      log.log(after.line.level, "service-exited", after.line.message, { service: this.name, restart: this.#restarts.done + 1 });
      this.#move("exited", "restarting");
      return this.#startAgainAfter(decision.delayMs, true);
    }
    log.log(after.line.level, "service-exited", after.line.message, { service: this.name, code: exitCodeFor(ending) });
    this.#move("exited", ending.code === 0 ? "exited" : "failed");
    this.#resolveReady(false);
    this.#context.onEndedForGood(this, ending);
  }

  /** Drop a pending restart (the stop has begun; stop() comes later in the order). */
  cancelRestart(): void {
    this.#restarts.cancel();
  }

  /** Forward a signal to the service's process group (signals boxinit does not act on itself). */
  forwardSignal(signal: number): void {
    // "gone": it ended meanwhile; its exit is handled where it is followed.
    if (this.#pid !== null) forwardTo({ pid: this.#pid, pgid: this.#pgid }, signal, this.#system.signals);
  }

  // How the stop command runs: as the service's process; if it cannot, the stop signal goes to what runs.
  #stopCommandRun(): StopCommandRun {
    const { log } = this.#context;
    return {
      service: this.name,
      log,
      signals: this.#system.signals,
      start: (argv) => this.#startProcess(argv),
      onCannotRun: () => {
        if (this.#pid !== null) sendStopSignal(this.name, { pid: this.#pid, pgid: this.#pgid }, this.config.stopSignal, log, this.#system.signals);
      },
    };
  }

  /** Stop it: stop command (then the stop signal if it still runs) or the stop signal; SIGKILL at the deadline. */
  async stop(deadline: number): Promise<StopOutcome> {
    this.#restarts.cancel();
    this.#abort.abort();
    this.#resolveReady(false);
    if (isFinalServiceState(this.#state)) return { killed: [] };
    if (this.#state === "pending" || this.#state === "restarting") {
      this.#move("stop", "stopped");
      return { killed: [] };
    }
    this.#move("stop", "stopping");
    const start = { cleanup: this.#cleanup, starter: this.#starter };
    const outcome: StopOutcome = { killed: await stopStartInProgress(start, this.config.stopSignal, deadline, this.#system.signals) };
    if (this.#pid !== null && this.#ended) {
      const target = { pid: this.#pid, pgid: this.#pgid };
      const isStillRunning = (): boolean => this.#pid === target.pid && this.#system.pidfile.isAlive(target.pid);
      const ending = await stopFollowed({ target, ended: this.#ended, config: this.config, isStillRunning, run: this.#stopCommandRun() }, deadline, outcome);
      if (ending) this.#lastExit = lastExitOf(ending);
      this.#pid = null;
    }
    this.#move("stop-done", "stopped");
    this.#context.log.info("service-stopped", `service ${this.name} stopped`, { service: this.name, stopCode: outcome.stopCode });
    return outcome;
  }
}

// A self-managing tini-style run's state directory: status/status.json in
// the shape Mini-VM mode writes (StatusFile: atomic, locked with job runs,
// heartbeat), and the backoff watch that asks modes/tini.ts to stop. Loaded
// as its own bundle (build/lazy/box.cjs) only after the command was spawned,
// so `boxinit -- CMD` starts as fast with a state directory as without; the
// states are the table in command-box-states.ts. See docs/tini-style.md.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { VERSION } from "../version.ts";
import { formatDurationMs } from "../config/duration.ts";
import { BackoffWatch } from "./backoff-watch.ts";
import { dirWatchFor } from "./dir-watch.ts";
import type { CommandBoxPlan } from "./command-box-plan.ts";
import { endEvent, nextCommandBoxState, type CommandBoxEvent, type StopCause } from "./command-box-states.ts";
import { liveOwnerOf } from "./state-dir-owner.ts";
import { StatusFile, type BoxState } from "./status-file.ts";
import { isoTime } from "../time/iso-time.ts";

export interface CommandBoxDeps {
  log: Logger;
  /** For the status lock shared with job runs; without it writes are unlocked. */
  native: Native | undefined;
  /** Backoff engaged while the command runs: start the stop (once). */
  onBackoff: () => void;
  /** Whether modes/tini.ts already spends the budget (its calls reach the box later). */
  isStopping: () => boolean;
}

/** The box as modes/tini-box.ts drives it; `at` is when the event happened (ISO time). */
export interface CommandBox {
  /** The budget is being spent; isRequested: a signal, fault or backoff asked, not the command's own end. */
  stopping(isRequested: boolean, at: string): void;
  /** The final state with boxinit's exit code; then nothing more is written or watched. */
  ended(code: number, isFault: boolean, at: string): Promise<void>;
}

/** How the run began: spawned (the first write says running) or not (its end says failed). */
export interface CommandBoxStart {
  isStarted: boolean;
  at: string;
}

// A box that writes nothing: the state directory is another boxinit's.
const NO_BOX: CommandBox = { stopping: () => {}, ended: async () => {} };

// `docker exec box boxinit -- sh` runs beside the container's PID 1, which
// owns /docker: its status must not be overwritten, nor its backoff obeyed twice.
const isOwnedByAnother = (plan: CommandBoxPlan, log: Logger): boolean => {
  const owner = liveOwnerOf(plan.stateDir);
  if (!owner) return false;
  log.info("state-dir", `the state directory belongs to the running boxinit pid ${owner.pid} (state ${owner.state}): this run writes no status and does not follow its backoff`, { dir: plan.stateDir });
  return true;
};

const writerFor = (plan: CommandBoxPlan, deps: Pick<CommandBoxDeps, "log" | "native">): StatusFile =>
  new StatusFile(plan.stateDir, deps.log, { heartbeatMs: plan.heartbeatMs, native: deps.native });

/**
 * Backoff was engaged before start: write `backedoff` with the exit code and
 * report true (nothing is to run). False when another live boxinit owns the
 * directory: its backoff is not this run's to obey.
 */
export const backOffAtStart = (plan: CommandBoxPlan, deps: Pick<CommandBoxDeps, "log" | "native">, code: number): boolean => {
  if (isOwnedByAnother(plan, deps.log)) return false;
  deps.log.info("backoff", `backoff is engaged (${plan.backoffFile} says true): starting nothing`);
  const status = writerFor(plan, deps);
  status.write({
    state: "backedoff", since: isoTime(), pid: process.pid, version: VERSION,
    backoff: true, exitCode: code, heartbeatMs: plan.heartbeatMs, services: {},
  });
  status.close();
  return true;
};

/**
 * The box's state as status.json says it: every move goes through the table
 * (command-box-states.ts), is logged, and is written at once.
 */
class CommandBoxStatus {
  #state: BoxState = "starting";
  #since: string;
  #exitCode: number | undefined;
  readonly #status: StatusFile;
  readonly #backoff: BackoffWatch;
  readonly #heartbeatMs: number;
  readonly #log: Logger;

  constructor(status: StatusFile, backoff: BackoffWatch, heartbeatMs: number, log: Logger, at: string) {
    this.#status = status;
    this.#backoff = backoff;
    this.#heartbeatMs = heartbeatMs;
    this.#log = log;
    this.#since = at;
  }

  get state(): BoxState {
    return this.#state;
  }

  write(): void {
    this.#status.write({
      state: this.#state, since: this.#since, pid: process.pid, version: VERSION, backoff: this.#backoff.isEngaged(),
      exitCode: this.#exitCode, heartbeatMs: this.#heartbeatMs, services: {},
    });
  }

  move(event: CommandBoxEvent, at: string): void {
    const to = nextCommandBoxState(this.#state, event);
    if (to === undefined) {
      this.#log.error("internal-error", "bug: state change not in the table", { from: this.#state, event });
      return;
    }
    this.#state = to;
    this.#since = at;
    this.#log.log(to === "running" || to === "stopping" ? "debug" : "info", "state", `state ${to}`, this.#exitCode === undefined ? undefined : { code: this.#exitCode });
    this.write();
  }

  startHeartbeat(): void {
    this.#status.startHeartbeat();
  }

  /** The last move, with boxinit's exit code; then nothing more is written or watched. */
  async finish(code: number, event: CommandBoxEvent, at: string): Promise<void> {
    this.#exitCode = code;
    this.move(event, at);
    this.#status.close();
    await this.#backoff.close();
  }
}

/** Take over the state directory for a run whose command was just spawned (or could not be). */
export const startCommandBox = async (plan: CommandBoxPlan, deps: CommandBoxDeps, start: CommandBoxStart): Promise<CommandBox> => {
  const { log } = deps;
  if (isOwnedByAnother(plan, log)) return NO_BOX;
  const status = writerFor(plan, deps);
  const backoff = new BackoffWatch(plan.backoffFile, { mode: plan.backoffWatch, pollMs: plan.backoffPollMs, watchDirectory: dirWatchFor(deps.native) }, log);
  const box = new CommandBoxStatus(status, backoff, plan.heartbeatMs, log, start.at);
  let cause: StopCause = "command-ended";

  if (!start.isStarted) {
    return { stopping: () => {}, ended: (code, _isFault, at) => box.finish(code, "not-started", at) };
  }
  box.move("spawned", start.at);
  box.startHeartbeat();
  log.info("state-dir", "self-managing: status written and backoff followed here", { dir: plan.stateDir, heartbeat: formatDurationMs(plan.heartbeatMs) });

  // Only while the command runs: once stopping, backoff changes what the document says, not what happens.
  const engage = (): void => {
    if (box.state !== "running" || cause !== "command-ended" || deps.isStopping()) return;
    cause = "backoff";
    log.info("backoff", `backoff engaged (${plan.backoffFile} says true): stopping the command`);
    deps.onBackoff();
  };
  await backoff.start((isEngaged) => {
    box.write();
    if (isEngaged) engage();
  });
  // Written between the check before the spawn and the watch's first read.
  if (backoff.isEngaged()) {
    box.write();
    engage();
  }

  return {
    stopping(isRequested, at) {
      if (cause === "command-ended" && isRequested) cause = "requested";
      if (box.state === "running") box.move("stop", at);
    },
    ended(code, isFault, at) {
      if (box.state === "running") box.move("stop", at);
      return box.finish(code, endEvent(cause, code, isFault), at);
    },
  };
};

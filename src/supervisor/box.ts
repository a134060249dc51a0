// The Mini-VM box: its state (moved only along box-states.ts's table), its
// services, and what is published about them: status/status.json through
// StatusFile, with the backoff watch's word. Several changes in one turn of
// the event loop (a service spawned, its state moved, the box's state moved)
// become one write, and service changes are written at most once per
// PUBLISH_INTERVAL_MS: 200 services stopping one after another would
// otherwise each cost a whole status write. modes/mini-vm.ts drives it.
import type { Fields, Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import type { Config } from "../config/types.ts";
import { BackoffWatch } from "../control/backoff-watch.ts";
import { dirWatchFor } from "../control/dir-watch.ts";
import { COMING_BACK_STATES, StatusFile } from "../control/status-file.ts";
import { VERSION } from "../version.ts";
import { monotonicMs } from "../time/clock.ts";
import { bootedBoxState, canMoveBox, type BoxState } from "./box-states.ts";
import type { Service } from "./service.ts";
import { isoTime } from "../time/iso-time.ts";

/**
 * Service changes are written at most this often. Short beside what a host
 * tool polling status.json waits (and the heartbeat), long beside one write
 * (about 2 ms at 200 services): a burst of changes costs a few writes.
 */
export const PUBLISH_INTERVAL_MS = 25;

export type BoxConfig = Pick<Config, "stateDir" | "heartbeatMs" | "backoffFile" | "backoffWatch" | "backoffPollMs">;

export class Box {
  #state: BoxState = "starting";
  #since = isoTime();
  // The coalesced write to come (publish()): when it is due, on monotonicMs(), and its timer.
  #publishDueMs: number | undefined;
  #cancelPublishTimer: (() => void) | undefined;
  // When the last coalesced write (publish()) was made, on monotonicMs().
  #lastPublishedMs = -Infinity;
  readonly #status: StatusFile;
  readonly #config: BoxConfig;
  readonly #log: Logger;
  /** Whether the run is stopping: running ⇄ degraded then no longer follows the services. */
  readonly #isStopping: () => boolean;
  /** The exit code, once known: written with the final state. */
  exitCode: number | undefined;
  /** In start order. */
  readonly services: Service[] = [];
  readonly backoff: BackoffWatch;

  constructor(config: BoxConfig, native: Native | undefined, log: Logger, isStopping: () => boolean) {
    this.#config = config;
    this.#log = log;
    this.#isStopping = isStopping;
    this.#status = new StatusFile(config.stateDir, log, { heartbeatMs: config.heartbeatMs, native });
    this.backoff = new BackoffWatch(config.backoffFile, { mode: config.backoffWatch, pollMs: config.backoffPollMs, watchDirectory: dirWatchFor(native) }, log);
  }

  get state(): BoxState {
    return this.#state;
  }

  /** Write the status files now. */
  publishNow(): void {
    this.#cancelPublish();
    this.#status.write({
      state: this.#state,
      since: this.#since,
      pid: process.pid,
      version: VERSION,
      backoff: this.backoff.isEngaged(),
      exitCode: this.exitCode,
      heartbeatMs: this.#config.heartbeatMs,
      services: Object.fromEntries(this.services.map((service) => [service.name, service.snapshot()])),
    });
  }

  /**
   * Write the status files at the end of this turn, or PUBLISH_INTERVAL_MS
   * after the last such write if that is later, or minWaitMs from now if that
   * is later still (a write already due sooner waits for it too): once,
   * however many changes come meanwhile, and always with the latest of them.
   */
  publish(minWaitMs = 0): void {
    const dueMs = Math.max(monotonicMs() + minWaitMs, this.#lastPublishedMs + PUBLISH_INTERVAL_MS);
    if (this.#publishDueMs !== undefined && this.#publishDueMs >= dueMs) return;
    this.#cancelPublish();
    this.#publishDueMs = dueMs;
    const write = (): void => {
      this.#publishDueMs = undefined;
      this.#cancelPublishTimer = undefined;
      this.#lastPublishedMs = monotonicMs();
      this.publishNow();
    };
    const waitMs = dueMs - monotonicMs();
    if (waitMs <= 0) {
      const immediate = setImmediate(write);
      this.#cancelPublishTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(write, waitMs);
      this.#cancelPublishTimer = () => clearTimeout(timer);
    }
  }

  // A coalesced write still to come is dropped (publishNow writes the same, and later).
  #cancelPublish(): void {
    this.#cancelPublishTimer?.();
    this.#cancelPublishTimer = undefined;
    this.#publishDueMs = undefined;
  }

  /** Move the box to a state the table allows; a move outside it is logged as a bug. */
  move(to: BoxState, fields?: Fields): void {
    if (!canMoveBox(this.#state, to)) {
      this.#log.error("internal-error", "bug: state change not in the table", { from: this.#state, to });
      return;
    }
    if (to !== this.#state) {
      this.#state = to;
      this.#since = isoTime();
      this.#log.info("state", `state ${to}`, fields);
    }
    // The box's own state is written at once (a host tool, or the main
    // command started right after `running`, must find it on disk); service
    // changes, and `warming`, which comes with one, are coalesced. `warming`
    // waits PUBLISH_INTERVAL_MS: a warm-up over by then (a service up at its
    // first check) goes from `starting` to `running` without that write, and
    // the check's end is not handled after it: `running` came 2-3 ms sooner.
    if (to === "warming") this.publish(PUBLISH_INTERVAL_MS);
    else this.publishNow();
  }

  /** After the boot, running ⇄ degraded follows the critical services; true when the box moved. */
  settleBooted(): boolean {
    if (this.#isStopping()) return false;
    const next = bootedBoxState(this.#state, this.services.map((service) => ({ state: service.state, isCritical: service.config.critical })));
    if (next === this.#state) return false;
    const down = this.services.filter((service) => service.config.critical && COMING_BACK_STATES.has(service.state)).map((service) => `${service.name} (${service.state})`);
    this.move(next, next === "degraded" ? { down } : undefined);
    return true;
  }

  /** A service's state changed: warming during the boot, running ⇄ degraded after it, else a coalesced write. */
  onServiceChange(): void {
    if (this.#state === "starting" && this.services.some((service) => service.state === "warming")) this.move("warming");
    else if (!this.settleBooted()) this.publish();
  }

  /** A new boot after an idle backoff: the last boot's services are over, the new ones are made afresh. */
  clearServices(): void {
    this.services.length = 0;
  }

  /** Keep status.json's updatedAt fresh (health checks read it). */
  startHeartbeat(): void {
    this.#status.startHeartbeat();
  }

  /** The last write is done (a change still waiting is written now): stop the heartbeat and the backoff watch. */
  async close(): Promise<void> {
    if (this.#publishDueMs !== undefined) this.publishNow();
    this.#status.close();
    await this.backoff.close();
  }
}

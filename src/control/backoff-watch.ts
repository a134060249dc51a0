// Follows <state_dir>/backoff and reports when "engaged" changes. inotify
// mode: chokidar on the state directory, plus a slow safety re-read because
// inotify misses changes on some network and overlay mounts. Poll mode (also
// the fallback when inotify fails): re-read the file every pollMs.
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "../log/logger.ts";
import type * as ChokidarEntry from "../lazy/chokidar.ts";
import { loadLibrary } from "../lazy/libraries.ts";
import { errnoCode } from "./atomic-write.ts";
import { BACKOFF_FILE, parseBackoff, readBackoff } from "./backoff.ts";

export type BackoffWatchMode = "inotify" | "poll";

export interface BackoffWatchOptions {
  mode: BackoffWatchMode;
  /** Poll mode, and inotify mode while the state directory does not exist. */
  pollMs: number;
  /** inotify mode: re-read this often anyway (default 5 s). */
  safetyMs?: number;
  /** How chokidar is loaded; tests substitute a failing one. */
  loadChokidar?: () => Promise<typeof ChokidarEntry>;
}

const DEFAULT_SAFETY_MS = 5000;
// chokidar's initial scan of one small directory takes milliseconds; past
// this, something is wrong with the mount and polling is the safer bet.
const WATCHER_READY_TIMEOUT_MS = 5000;
// Distinct unexpected contents remembered for "warn once"; a bound, not a policy.
const MAX_REMEMBERED_CONTENTS = 64;

/**
 * Entries of the state directory that can change what `backoff` reads: the
 * file itself and Kubernetes ConfigMap internals (`backoff -> ..data/backoff`,
 * `..data -> ..2026_11_26_...`, swapped by renaming `..data_tmp` over `..data`).
 */
export const isBackoffEntry = (name: string): boolean => name === BACKOFF_FILE || name.startsWith("..");

// "dev:ino" of the directory (symlinks followed), or undefined when there is none.
const directoryIdentity = (path: string): string | undefined => {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats?.isDirectory() ? `${stats.dev}:${stats.ino}` : undefined;
  } catch (error) {
    if (errnoCode(error) !== undefined) return undefined;
    throw error;
  }
};

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Watches the backoff file; see the file header for the two modes. */
export class BackoffWatch {
  readonly #dir: string;
  readonly #file: string;
  readonly #pollMs: number;
  readonly #safetyMs: number;
  readonly #loadChokidar: () => Promise<typeof ChokidarEntry>;
  readonly #log: Logger;
  #mode: BackoffWatchMode;
  #isEngaged = false;
  #onChange: (engaged: boolean) => void = () => {};
  #watcher: ChokidarEntry.FSWatcher | undefined;
  #watchedIdentity: string | undefined;
  #isStartingWatcher = false;
  #timer: NodeJS.Timeout | undefined;
  #isClosed = false;
  readonly #warnedContents = new Set<string>();
  #warnedReadError: string | undefined;

  constructor(stateDir: string, options: BackoffWatchOptions, log: Logger) {
    this.#dir = resolve(stateDir);
    this.#file = resolve(stateDir, BACKOFF_FILE);
    this.#mode = options.mode;
    this.#pollMs = options.pollMs;
    this.#safetyMs = options.safetyMs ?? DEFAULT_SAFETY_MS;
    this.#loadChokidar = options.loadChokidar ?? (() => loadLibrary("chokidar"));
    this.#log = log;
  }

  /**
   * Reads the file (isEngaged() is then valid: `true` at start means "start
   * nothing"), then watches. onChange gets only later changes of the value.
   */
  async start(onChange: (engaged: boolean) => void): Promise<void> {
    this.#reread();
    this.#onChange = onChange;
    await this.#ensureWatcher();
    this.#scheduleTick();
  }

  /** The value as last read. */
  isEngaged(): boolean {
    return this.#isEngaged;
  }

  /** Stop watching and polling. */
  async close(): Promise<void> {
    this.#isClosed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#dropWatcher();
  }

  #reread(): void {
    let text: string | undefined;
    try {
      text = readBackoff(this.#dir);
    } catch (error) {
      const code = errnoCode(error);
      if (code === undefined) throw error;
      // Keep the last value: a file that cannot be read says nothing new.
      if (this.#warnedReadError !== code) {
        this.#warnedReadError = code;
        this.#log.warn("backoff", "cannot read the backoff file: keeping the last value", { file: this.#file, error: describe(error) });
      }
      return;
    }
    this.#warnedReadError = undefined;
    const value = parseBackoff(text);
    if (value.unexpected !== undefined && !this.#warnedContents.has(value.unexpected)) {
      if (this.#warnedContents.size >= MAX_REMEMBERED_CONTENTS) this.#warnedContents.clear();
      this.#warnedContents.add(value.unexpected);
      this.#log.warn("backoff", 'unexpected content in the backoff file: not engaged (only "true" engages)', {
        file: this.#file,
        content: value.unexpected,
      });
    }
    if (value.engaged === this.#isEngaged) return;
    this.#isEngaged = value.engaged;
    this.#log.debug("backoff", value.engaged ? "backoff file says true" : "backoff file no longer says true", { file: this.#file });
    this.#onChange(value.engaged);
  }

  // One timer for both the poll loop and the safety re-read. While inotify
  // mode has no watcher (the directory is missing), it runs at the poll rate
  // so the directory's appearance is noticed quickly.
  #scheduleTick(): void {
    if (this.#isClosed) return;
    clearTimeout(this.#timer);
    const delayMs = this.#watcher === undefined ? this.#pollMs : this.#safetyMs;
    this.#timer = setTimeout(() => void this.#tick(), delayMs).unref();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    try {
      this.#reread();
      await this.#ensureWatcher();
    } finally {
      this.#scheduleTick();
    }
  }

  // inotify mode: a watcher on the directory as it is now. Started when the
  // directory appears, restarted when it was replaced (rm -r + mkdir, a bind
  // mount changed, the /docker symlink retargeted): chokidar does not reliably
  // follow a watched root that is created or re-created after watch().
  async #ensureWatcher(): Promise<void> {
    if (this.#mode !== "inotify" || this.#isClosed || this.#isStartingWatcher) return;
    const identity = directoryIdentity(this.#dir);
    if (identity !== undefined && identity === this.#watchedIdentity && this.#watcher !== undefined) return;
    if (this.#watcher !== undefined) await this.#dropWatcher();
    if (identity === undefined) return;
    this.#isStartingWatcher = true;
    try {
      this.#watcher = await this.#openWatcher();
      this.#watchedIdentity = identity;
      this.#log.debug("backoff", "watching the state directory", { dir: this.#dir });
    } catch (error) {
      this.#fallBackToPolling(error);
    } finally {
      this.#isStartingWatcher = false;
    }
    if (this.#isClosed) await this.#dropWatcher();
    // Whatever was written before the watcher was ready.
    else this.#reread();
  }

  async #openWatcher(): Promise<ChokidarEntry.FSWatcher> {
    const { watch } = await this.#loadChokidar();
    // The real path: with followSymlinks off, a symlinked state dir would be
    // watched as a link, not as the directory it points to.
    const root = realpathSync(this.#dir);
    const watcher = watch(root, {
      depth: 0,
      ignoreInitial: true,
      followSymlinks: false,
      // Not atomic: it delays unlink by 100 ms to merge it with an add. Any
      // event means "re-read", so merging buys nothing and costs latency.
      atomic: false,
      persistent: false,
      // Our own status writes (every heartbeat) are not worth a stat.
      ignored: (path: string) => dirname(path) === root && !isBackoffEntry(basename(path)),
    });
    try {
      await new Promise<void>((resolveReady, rejectReady) => {
        const timeout = setTimeout(() => rejectReady(new Error(`no ready event within ${WATCHER_READY_TIMEOUT_MS}ms`)), WATCHER_READY_TIMEOUT_MS).unref();
        watcher.once("ready", () => {
          clearTimeout(timeout);
          resolveReady();
        });
        watcher.once("error", (error) => {
          clearTimeout(timeout);
          rejectReady(error);
        });
      });
    } catch (error) {
      await watcher.close();
      throw error;
    }
    watcher.on("error", (error) => {
      if (this.#watcher === watcher) this.#fallBackToPolling(error);
    });
    watcher.on("all", (event, path) => {
      if (this.#watcher !== watcher) return;
      if (path === root) {
        if (event === "unlinkDir") void this.#dropWatcher().then(() => this.#scheduleTick());
        this.#reread();
      } else if (isBackoffEntry(basename(path))) {
        this.#reread();
      }
    });
    return watcher;
  }

  #fallBackToPolling(error: unknown): void {
    this.#mode = "poll";
    this.#log.warn("backoff", `cannot watch the state directory: polling the backoff file every ${this.#pollMs}ms instead`, {
      dir: this.#dir,
      error: describe(error),
      hint: errnoCode(error) === "ENOSPC" ? "inotify watches exhausted: raise fs.inotify.max_user_watches" : undefined,
    });
    void this.#dropWatcher().then(() => this.#scheduleTick());
  }

  async #dropWatcher(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    this.#watchedIdentity = undefined;
    if (watcher === undefined) return;
    try {
      await watcher.close();
    } catch (error) {
      this.#log.debug("backoff", "closing the directory watcher failed", { error: describe(error) });
    }
  }
}

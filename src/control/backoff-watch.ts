// Follows the backoff file (<state_dir>/backoff, or backoff.file wherever it
// lies, e.g. a mounted ConfigMap directory) and reports when "engaged"
// changes. inotify mode: one inotify watch on the file's directory (the
// addon's, or fs.watch without it: dir-watch.ts),
// which also sees a kubelet ConfigMap update (`..data` re-pointed by a rename),
// and, when the file is a symlink into another directory, that directory too
// (backoff-link-watch.ts),
// plus a slow safety re-read because inotify misses changes on some network
// and overlay mounts. Poll mode (also the fallback when inotify fails):
// re-read the file every pollMs.
//
// Not chokidar (measured, bench/RESULTS.md scenarios 6 and 7): chokidar stats
// every entry an event names before any filter runs, so boxinit's own status
// writes (temp file + rename, twice per state change) cost ~5 ms of main-thread
// time per change, and loading it plus its initial scan cost ~12 ms of every
// Mini-VM start. Every event here means the same thing ("re-read the file"),
// so the raw directory events are all that is needed.
import { lstatSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "../log/logger.ts";
import { errnoCode } from "./atomic-write.ts";
import { BACKOFF_FILE, parseBackoff, readBackoffFile } from "./backoff.ts";
import { LinkedDirWatch } from "./backoff-link-watch.ts";
import { watchWithFs, type DirWatcher, type WatchDirectory } from "./dir-watch.ts";

export type { WatchDirectory };

export type BackoffWatchMode = "inotify" | "poll";

export interface BackoffWatchOptions {
  mode: BackoffWatchMode;
  /** Poll mode, and inotify mode while the file's directory does not exist. */
  pollMs: number;
  /** inotify mode: re-read this often anyway (default 5 s). */
  safetyMs?: number;
  /** How the directory watch is opened (default fs.watch; dir-watch.ts: the addon's); tests substitute failing or blind ones. */
  watchDirectory?: WatchDirectory;
}

const DEFAULT_SAFETY_MS = 5000;
// Distinct unexpected contents remembered for "warn once"; a bound, not a policy.
const MAX_REMEMBERED_CONTENTS = 64;

/**
 * Entries of the file's directory that can change what the backoff file reads:
 * the file itself and Kubernetes ConfigMap internals (`backoff -> ..data/backoff`,
 * `..data -> ..2026_11_26_...`, swapped by renaming `..data_tmp` over `..data`).
 */
export const isBackoffEntry = (name: string, fileName: string = BACKOFF_FILE): boolean => name === fileName || name.startsWith("..");

/**
 * Why a backoff file that reads as missing is missing, for one log line: its
 * directory is not there, or it is a symlink whose target is not (a ConfigMap's
 * `..data` gone). Undefined: simply no file, the ordinary "not engaged".
 */
export const whyBackoffMissing = (file: string): string | undefined => {
  try {
    if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) return "it is a dangling symlink (its target does not exist)";
    return statSync(dirname(file), { throwIfNoEntry: false })?.isDirectory() ? undefined : `its directory ${dirname(file)} does not exist`;
  } catch (error) {
    if (errnoCode(error) === undefined) throw error;
    return `its directory cannot be looked at (${errnoCode(error)})`;
  }
};

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
  readonly #fileName: string;
  readonly #pollMs: number;
  readonly #safetyMs: number;
  readonly #watchDirectory: WatchDirectory;
  readonly #log: Logger;
  #mode: BackoffWatchMode;
  #isEngaged = false;
  #onChange: (engaged: boolean) => void = () => {};
  #watcher: DirWatcher | undefined;
  #watchedIdentity: string | undefined;
  #isStartingWatcher = false;
  #timer: NodeJS.Timeout | undefined;
  #isClosed = false;
  readonly #warnedContents = new Set<string>();
  #warnedReadError: string | undefined;
  #warnedMissing: string | undefined;
  /** The directory a symlinked backoff file points into (inotify mode). */
  readonly #linked: LinkedDirWatch;

  /** `file`: the backoff file's path (config.backoffFile); its directory is what is watched. */
  constructor(file: string, options: BackoffWatchOptions, log: Logger) {
    this.#file = resolve(file);
    this.#dir = dirname(this.#file);
    this.#fileName = basename(this.#file);
    this.#mode = options.mode;
    this.#pollMs = options.pollMs;
    this.#safetyMs = options.safetyMs ?? DEFAULT_SAFETY_MS;
    this.#watchDirectory = options.watchDirectory ?? watchWithFs;
    this.#log = log;
    this.#linked = new LinkedDirWatch(this.#file, this.#watchDirectory, () => this.#reread(), log);
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
    this.#linked.close();
  }

  #reread(): void {
    // Every read is a chance to see that the link moved (a new target, a new directory there).
    if (this.#mode === "inotify" && !this.#isClosed) this.#linked.update();
    let text: string | undefined;
    try {
      text = readBackoffFile(this.#file);
      if (text === undefined) this.#noteMissing();
      else this.#warnedMissing = undefined;
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

  // A missing file is the ordinary "not engaged"; a missing directory or a
  // dangling link is likely a mistake (a ConfigMap not mounted): said once.
  #noteMissing(): void {
    const why = whyBackoffMissing(this.#file);
    if (why === this.#warnedMissing) return;
    this.#warnedMissing = why;
    if (why !== undefined) this.#log.warn("backoff", `the backoff file cannot be read: ${why}: not engaged until it can`, { file: this.#file });
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
  // mount changed, the /docker symlink retargeted): an inotify watch stays on
  // the directory it was opened on, never on a new one at the same path.
  async #ensureWatcher(): Promise<void> {
    if (this.#mode !== "inotify" || this.#isClosed || this.#isStartingWatcher) return;
    const identity = directoryIdentity(this.#dir);
    if (identity !== undefined && identity === this.#watchedIdentity && this.#watcher !== undefined) return;
    if (this.#watcher !== undefined) await this.#dropWatcher();
    if (identity === undefined) return;
    this.#isStartingWatcher = true;
    try {
      this.#watcher = this.#openWatcher();
      this.#watchedIdentity = identity;
      this.#log.debug("backoff", "watching the backoff file's directory", { dir: this.#dir, file: this.#fileName });
    } catch (error) {
      this.#fallBackToPolling(error);
    } finally {
      this.#isStartingWatcher = false;
    }
    if (this.#isClosed) await this.#dropWatcher();
    // Whatever was written before the watcher was ready.
    else this.#reread();
  }

  #openWatcher(): DirWatcher {
    // The real path: a symlinked state dir is watched as the directory it points to.
    const root = realpathSync(this.#dir);
    const watcher = this.#watchDirectory(root, (name) => {
      if (this.#watcher !== watcher) return;
      // Our own status writes are not worth a read. Events about the directory
      // itself (deleted, moved) carry its own name (libuv) or none: the watch
      // is dead, so open a new one now. Not left to the identity check: a
      // directory re-created at once often gets the same inode number.
      if (name === null || name === basename(root)) void this.#dropWatcher().then(() => this.#scheduleSoonTick());
      else if (isBackoffEntry(name, this.#fileName)) this.#reread();
    });
    watcher.on("error", (error) => {
      if (this.#watcher === watcher) this.#fallBackToPolling(error);
    });
    return watcher;
  }

  // The directory itself changed: look at it now rather than at the next safety tick.
  #scheduleSoonTick(): void {
    if (this.#isClosed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), 0).unref();
  }

  #fallBackToPolling(error: unknown): void {
    this.#mode = "poll";
    this.#linked.close();
    this.#log.warn("backoff", `cannot watch the backoff file's directory: polling the backoff file every ${this.#pollMs}ms instead`, {
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
      watcher.close();
    } catch (error) {
      this.#log.debug("backoff", "closing the directory watcher failed", { error: describe(error) });
    }
  }
}

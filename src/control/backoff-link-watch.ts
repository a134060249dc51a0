// The backoff watch's second directory (backoff-watch.ts): when the backoff
// file is a symlink into another directory (STATE_DIR/backoff ->
// /etc/boxinit-control/backoff, a ConfigMap mounted elsewhere), that
// directory is watched too, so the kubelet's `..data` swap there is seen at
// once and not only by the 5 s safety re-read (measured before: 4.2-4.5 s).
// Only the link's first hop: past it, a ConfigMap's links stay inside its
// own directory (KEY -> ..data/KEY).
import { lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import type { Logger } from "../log/logger.ts";
import { errnoCode } from "./atomic-write.ts";
import type { DirWatcher, WatchDirectory } from "./dir-watch.ts";

export interface LinkedDirectory {
  /** The directory the link points into, symlinks resolved. */
  dir: string;
  /** The name the link points at in it. */
  name: string;
  /** "dev:ino/name": a new directory at the same path, or a new target, is a new watch. */
  key: string;
}

/** Where the symlink at `file` points, when that is another directory than `file`'s own; undefined otherwise. */
export const linkedDirectory = (file: string): LinkedDirectory | undefined => {
  try {
    if (!lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) return undefined;
    const target = resolve(dirname(file), readlinkSync(file));
    // Within the file's own directory, or its ConfigMap's ..data/ (KEY -> ..data/KEY,
    // where the swap is a rename in the own directory), its watch sees every change
    // already. A subdirectory such as own/control/ (a ConfigMap mounted there) is
    // not seen by that watch (it is not recursive): it gets its own.
    const own = dirname(file);
    const first = relative(own, dirname(target)).split("/")[0]!;
    if (first === "" || (first.startsWith("..") && first !== "..")) return undefined;
    const dir = realpathSync(dirname(target));
    if (dir === realpathSync(own)) return undefined;
    const stats = statSync(dir);
    return { dir, name: basename(target), key: `${stats.dev}:${stats.ino}/${basename(target)}` };
  } catch (error) {
    if (errnoCode(error) === undefined) throw error;
    return undefined; // gone meanwhile, or a dangling link: nothing to watch there
  }
};

/** A watch on the directory the backoff file's symlink points into, kept in step with the link. */
export class LinkedDirWatch {
  readonly #file: string;
  readonly #watchDirectory: WatchDirectory;
  readonly #onEvent: () => void;
  readonly #log: Logger;
  #watcher: DirWatcher | undefined;
  #key: string | undefined;

  constructor(file: string, watchDirectory: WatchDirectory, onEvent: () => void, log: Logger) {
    this.#file = file;
    this.#watchDirectory = watchDirectory;
    this.#onEvent = onEvent;
    this.#log = log;
  }

  /** Follow the link as it is now: watch where it points, move the watch when it points elsewhere. */
  update(): void {
    const linked = linkedDirectory(this.#file);
    if (linked?.key === this.#key) return;
    this.close();
    if (linked === undefined) return;
    this.#key = linked.key;
    try {
      const watcher = this.#watchDirectory(linked.dir, (name) => {
        if (this.#watcher === watcher && (name === null || name === linked.name || name.startsWith(".."))) this.#onEvent();
      });
      // A broken watch here costs only speed: the safety re-read still reads the file.
      watcher.on("error", () => {
        if (this.#watcher === watcher) this.close();
      });
      this.#watcher = watcher;
      this.#log.debug("backoff", "watching the directory the backoff file links into", { dir: linked.dir, file: linked.name });
    } catch (error) {
      this.#log.debug("backoff", "cannot watch the directory the backoff file links into: the safety re-read covers it", { dir: linked.dir, error: String(error) });
    }
  }

  /** Stop watching. */
  close(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    this.#key = undefined;
    try {
      watcher?.close();
    } catch (error) {
      this.#log.debug("backoff", "closing the linked directory's watcher failed", { error: String(error) });
    }
  }
}

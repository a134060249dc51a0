// How the backoff watch (backoff-watch.ts, backoff-link-watch.ts) opens a
// watch on a directory. With the addon: its own inotify watch
// (native/dir-watch.c), one call into JavaScript per batch of events; Node's
// fs.watch otherwise (or with a copy of the addon that lacks it). fs.watch
// loads Node's watcher modules on first use, about 1 ms on the way to
// `running`, and emits an event per inotify event: eight or so for each of
// boxinit's own status writes (docs/resources.md).
import { watch } from "node:fs";
import type { Native } from "../native/addon.ts";

/** An open directory watch: what the backoff watch uses of an FSWatcher. */
export interface DirWatcher {
  close(): void;
  /** The watch broke (a read error): it hears nothing more. */
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** Opens a watch on a directory; the listener gets the entry name an event is about (null when unknown). */
export type WatchDirectory = (dir: string, listener: (name: string | null) => void) => DirWatcher;

export const watchWithFs: WatchDirectory = (dir, listener) =>
  // Not persistent: the watch must not be what keeps PID 1's event loop alive.
  watch(dir, { persistent: false }, (_event, name) => listener(name));

/** The addon's watch when it has one; fs.watch otherwise. */
export const dirWatchFor = (native: Native | undefined): WatchDirectory => (dir, listener) => {
  let onError: (error: Error) => void = () => {};
  const close = native?.watchDir(dir, (names, error) => {
    if (error) return onError(error);
    // A file written in place comes as several events of one name: one look is enough.
    for (const name of new Set(names)) listener(name);
  });
  if (close === undefined) return watchWithFs(dir, listener);
  return {
    close,
    on(_event, listener) {
      onError = listener;
      return this;
    },
  };
};

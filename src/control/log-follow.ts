// `boxinit logs -f`: after the tail, what the writer (log/log-file.ts) adds
// to NAME.log, through its rotations. NAME.log stays open by descriptor; when
// the name points at another file (it was renamed to NAME.log.1 and a new
// one begun), the old file is read to its end, any newer rotated file that
// was skipped (two rotations between two looks) is read whole, and the new
// NAME.log is followed from its start. fs.watch on DIR only wakes the
// reader; a slow poll stands in where inotify says nothing (some mounts).
import { closeSync, fstatSync, readSync, watch, type FSWatcher } from "node:fs";
import type { DirHandle } from "./dir-handle.ts";
import { closeLogs, copyBytes, openLogFile, READ_BLOCK_BYTES, rotatedNumbers, type OpenLog } from "./log-read.ts";

/** Where following goes on: the newest file and the end of its last whole line. */
export interface FollowFrom {
  file: OpenLog | undefined;
  offset: number;
}

/** Looks again this often when no change was announced. */
export const FOLLOW_POLL_MS = 1000;

/** Follows one service's log; `step` reads what is new, `watchUntil` does so on every change until aborted. */
export class LogFollower {
  readonly #dir: DirHandle;
  readonly #fileName: string;
  readonly #service: string;
  readonly #out: (bytes: Buffer) => boolean;
  readonly #block = Buffer.allocUnsafe(READ_BLOCK_BYTES);
  #file: OpenLog | undefined;
  #offset: number;

  readonly #onMissed: (warning: string) => void;

  constructor(dir: DirHandle, service: string, from: FollowFrom, out: (bytes: Buffer) => boolean, onMissed: (warning: string) => void = () => {}) {
    this.#onMissed = onMissed;
    this.#dir = dir;
    this.#service = service;
    this.#fileName = `${service}.log`;
    this.#file = from.file;
    this.#offset = from.offset;
    this.#out = out;
  }

  /** Print what was added since the last step, through rotations; false when the output is closed. */
  step(): boolean {
    if (this.#file && !this.#readNew(false)) return false;
    const current = this.#dir.stat(this.#fileName);
    if (current !== undefined && current.ino === this.#file?.ino) return true;
    // Mid-rotation (renamed, the new NAME.log not made yet): the next wake sees it.
    if (current === undefined && this.#file) return true;
    if (!this.#file) {
      this.#file = openLogFile(this.#dir, this.#fileName);
      this.#offset = 0;
      return this.#file ? this.#readNew(false) : true;
    }
    // Rotated: the old file has its last lines, then the files after it.
    if (!this.#readNew(true)) return false;
    const look = this.#newerThan(this.#file.ino);
    closeSync(this.#file.fd);
    this.#file = look.current;
    this.#offset = 0;
    if (look.isMissed) this.#onMissed(`${this.#fileName} was rotated more often than it could be read: lines were dropped before they were seen`);
    let isOpen = true;
    for (const file of look.newer) {
      isOpen &&= copyBytes(file.fd, 0, fstatSync(file.fd).size, this.#out, this.#block);
      closeSync(file.fd);
    }
    return isOpen && (this.#file ? this.#readNew(false) : true);
  }

  /**
   * Steps on every change of DIR (and every FOLLOW_POLL_MS) until the signal
   * aborts or the output closes (true), or reading fails (false: said through onMissed).
   */
  watchUntil(signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let isOk = true;
      let watcher: FSWatcher | undefined;
      let timer: NodeJS.Timeout | undefined;
      let isQueued = false;
      const finish = (): void => {
        watcher?.close();
        clearInterval(timer);
        signal.removeEventListener("abort", finish);
        resolve(isOk);
      };
      const stepOrFinish = (): void => {
        try {
          if (!this.step()) finish();
        } catch (error) {
          isOk = false;
          this.#onMissed(`stopped following: ${(error as Error).message}`);
          finish();
        }
      };
      const wake = (): void => {
        if (isQueued || signal.aborted) return;
        isQueued = true;
        setImmediate(() => {
          isQueued = false;
          if (!signal.aborted) stepOrFinish();
        });
      };
      if (signal.aborted) return finish();
      signal.addEventListener("abort", finish);
      try {
        watcher = watch(this.#dir.path, { persistent: true }, wake);
        watcher.on("error", () => watcher?.close()); // the poll goes on
      } catch {
        // No inotify here: the poll alone.
      }
      timer = setInterval(wake, FOLLOW_POLL_MS);
      wake();
    });
  }

  /** Close what is open. */
  close(): void {
    if (this.#file) closeSync(this.#file.fd);
    this.#file = undefined;
  }

  // From the offset to the end of the last whole line (or to the end: the
  // writer has finished with a rotated file). A block without any newline is
  // printed as it is, so a reader never holds more than a block.
  #readNew(isToEnd: boolean): boolean {
    const file = this.#file!;
    const size = fstatSync(file.fd).size;
    if (size < this.#offset) this.#offset = 0; // truncated by someone: start over
    while (this.#offset < size) {
      const count = readSync(file.fd, this.#block, 0, Math.min(this.#block.length, size - this.#offset), this.#offset);
      if (count === 0) break;
      const lastNewline = this.#block.lastIndexOf(0x0a, count - 1);
      const take = isToEnd || lastNewline === -1 && count === this.#block.length ? count : lastNewline + 1;
      if (take === 0) break;
      if (!this.#out(this.#block.subarray(0, take))) return false;
      this.#offset += take;
    }
    return true;
  }

  // The files after the one followed (ino), oldest first, and NAME.log, each
  // opened so that a name cannot change under the reading. The rotated names
  // are tried upwards by open(2), not taken from readdir alone: a readdir
  // racing a rename may miss an entry. Two rotations between two looks: the
  // followed file is NAME.log.K, and .(K-1) ... .1 were never seen. When it is
  // no longer there (more than keep rotations) every rotated file is newer:
  // all are read, and isMissed says lines were dropped in between. When
  // NAME.log changed during the look (a rotation in the middle), look again.
  #newerThan(ino: number): { newer: OpenLog[]; current: OpenLog | undefined; isMissed: boolean } {
    for (let attempt = 0; ; attempt++) {
      const current = openLogFile(this.#dir, this.#fileName);
      const highest = Math.max(0, ...rotatedNumbers(this.#dir, this.#service)) + 2;
      const newer: OpenLog[] = [];
      let isFound = false;
      for (let number = 1; number <= highest && !isFound; number++) {
        const file = openLogFile(this.#dir, `${this.#fileName}.${number}`);
        // Both missing (a rotation between looks) must not count as "the same file".
        if (file && (file.ino === ino || file.ino === current?.ino)) closeSync(file.fd);
        else if (file) newer.push(file);
        isFound = file?.ino === ino;
      }
      if (this.#dir.stat(this.#fileName)?.ino === current?.ino || attempt >= 3) {
        return { newer: newer.reverse(), current, isMissed: !isFound && newer.length > 0 };
      }
      closeLogs(newer);
      if (current) closeSync(current.fd);
    }
  }
}

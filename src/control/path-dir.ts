// A directory worked by path, for when the addon is missing: the behaviour
// before descriptors, with the symlink check when a directory is opened (a
// check, not a guarantee; control/dir-handle.ts warns once). A DirHandle by
// shape: openStateDir returns it as one, which TypeScript checks.
import { chmodSync, closeSync, constants, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { EntryStat } from "../native/addon.ts";
import { checkName, codeOf, fsError, isModeUnsupported, isPlainName, refusal } from "./dir-checks.ts";

const { O_RDONLY, O_DIRECTORY } = constants;

const statOf = (stats: Stats): EntryStat => ({
  mode: stats.mode, size: stats.size, mtimeMs: stats.mtimeMs, nlink: stats.nlink, uid: stats.uid, ino: stats.ino,
});

/** Without the addon: the same operations by path (the behaviour before descriptors). */
export class PathDir {
  readonly path: string;
  readonly isByDescriptor = false;

  constructor(path: string) {
    this.path = path;
  }

  #at(name: string): string {
    checkName(name);
    return join(this.path, name);
  }

  open(name: string, flags: number, mode = 0o644): number {
    return openSync(this.#at(name), flags, mode);
  }

  subdir(name: string, createMode?: number): PathDir {
    const path = this.#at(name);
    let isCreated = false;
    if (createMode !== undefined) {
      try {
        mkdirSync(path, { mode: createMode });
        isCreated = true;
      } catch (error) {
        if (codeOf(error) !== "EEXIST") throw error;
      }
    }
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) throw refusal(fsError("ELOOP", ""), path);
    if (!stats.isDirectory()) throw refusal(fsError("ENOTDIR", ""), path);
    if (isCreated) {
      try {
        chmodSync(path, createMode!);
      } catch (error) {
        if (!isModeUnsupported(error)) throw error;
      }
    }
    return new PathDir(path);
  }

  rename(from: string, to: string): void {
    renameSync(this.#at(from), this.#at(to));
  }

  link(from: string, to: string): void {
    linkSync(this.#at(from), this.#at(to));
  }

  unlink(name: string): void {
    unlinkSync(this.#at(name));
  }

  stat(name: string): EntryStat | undefined {
    const stats = lstatSync(this.#at(name), { throwIfNoEntry: false });
    return stats === undefined ? undefined : statOf(stats);
  }

  list(): string[] {
    return readdirSync(this.path).filter(isPlainName);
  }

  sync(): void {
    const fd = openSync(this.path, O_RDONLY | O_DIRECTORY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    // Nothing held open.
  }
}

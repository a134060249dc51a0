// A directory held open by descriptor: every name is resolved against it with
// the addon's *at calls, so a swap of a name for a symlink after the open
// changes nothing boxinit touches (control/dir-handle.ts says why). A
// DirHandle by shape: openStateDir returns it as one, which TypeScript checks.
import { closeSync, constants, fsyncSync } from "node:fs";
import { join } from "node:path";
import type { EntryStat, Native } from "../native/addon.ts";
import { checkName, codeOf, fsError, kindOf, refusal, setModeOf } from "./dir-checks.ts";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

/** Names resolved against a descriptor with the addon's *at calls. */
export class DescriptorDir {
  readonly path: string;
  readonly isByDescriptor = true;
  readonly #native: Native;
  #fd: number | undefined;

  constructor(native: Native, fd: number, path: string) {
    this.#native = native;
    this.#fd = fd;
    this.path = path;
  }

  get #open(): number {
    if (this.#fd === undefined) throw fsError("EBADF", `${this.path}: directory handle used after close`);
    return this.#fd;
  }

  open(name: string, flags: number, mode = 0o644): number {
    checkName(name);
    return this.#native.openAt(this.#open, name, flags, mode, join(this.path, name));
  }

  subdir(name: string, createMode?: number): DescriptorDir {
    checkName(name);
    const label = join(this.path, name);
    let isCreated = false;
    if (createMode !== undefined) {
      try {
        this.#native.mkdirAt(this.#open, name, createMode, label);
        isCreated = true;
      } catch (error) {
        if (codeOf(error) !== "EEXIST") throw error;
      }
    }
    let fd: number;
    try {
      fd = this.#native.openAt(this.#open, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, label);
    } catch (error) {
      throw refusal(error, label, codeOf(error) === "ENOTDIR" && this.#isSymlink(name));
    }
    try {
      // mkdirat's mode went through the umask (077 would lock other uids out).
      // What is fchmod'ed is the directory just opened without following a
      // link: if someone swapped ours for one of theirs, it is still inside
      // the state directory.
      if (isCreated) setModeOf(fd, createMode!);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return new DescriptorDir(this.#native, fd, label);
  }

  // For the refusal's wording only: the open has already refused, whatever this says.
  #isSymlink(name: string): boolean {
    try {
      return kindOf(this.#native.statAt(this.#open, name)) === "symlink";
    } catch {
      return false;
    }
  }

  rename(from: string, to: string): void {
    checkName(from);
    checkName(to);
    this.#native.renameAt(this.#open, from, this.#open, to, join(this.path, to));
  }

  link(from: string, to: string): void {
    checkName(from);
    checkName(to);
    this.#native.linkAt(this.#open, from, this.#open, to, join(this.path, to));
  }

  unlink(name: string): void {
    checkName(name);
    this.#native.unlinkAt(this.#open, name, false, join(this.path, name));
  }

  stat(name: string): EntryStat | undefined {
    checkName(name);
    try {
      return this.#native.statAt(this.#open, name, join(this.path, name));
    } catch (error) {
      if (codeOf(error) === "ENOENT") return undefined;
      throw error;
    }
  }

  list(): string[] {
    return this.#native.readDir(this.#open, this.path);
  }

  sync(): void {
    fsyncSync(this.#open);
  }

  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }
}

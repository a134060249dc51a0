// The state directory and the directories boxinit makes in it (logs/, jobs/),
// held open by descriptor. A host user who can write the state directory may
// swap `logs` for a symlink between a check and a use by path; a root boxinit
// would then write, truncate or delete where the link points (issue 13, bug 1).
// Here each directory is opened once (O_DIRECTORY, and O_NOFOLLOW for every
// directory inside the state directory) and every name is resolved relative
// to that descriptor with the addon's *at calls: a swap after the open changes
// nothing boxinit touches. Without the addon, the same operations go by path,
// with the symlink check when a directory is opened: a check, not a guarantee
// (said once).
import { chmodSync, closeSync, constants, fchmodSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { EntryStat, Native } from "../native/addon.ts";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_CREAT, O_EXCL } = constants;
const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = constants;

export type { EntryStat };

/** One directory, open; names are single components (no "/", ".", ".."). */
export interface DirHandle {
  /** The directory's path, for messages only: nothing is opened by it after the open. */
  readonly path: string;
  /** True when names resolve against a descriptor (the addon); false when by path. */
  readonly isByDescriptor: boolean;
  /** open(2) of a name in the directory; the new fd (close-on-exec). */
  open(name: string, flags: number, mode?: number): number;
  /**
   * The directory `name` in this one, opened with O_DIRECTORY|O_NOFOLLOW: a
   * symlink there is refused (ELOOP), so is anything else that is not a
   * directory (ENOTDIR). With createMode, a missing one is made, with exactly
   * that mode whatever the umask; without it, a missing one is ENOENT.
   */
  subdir(name: string, createMode?: number): DirHandle;
  /** rename(2) within the directory: the entry at `to` is replaced, a symlink there is never followed. */
  rename(from: string, to: string): void;
  /** link(2) within the directory: EEXIST rather than replacing `to`. */
  link(from: string, to: string): void;
  /** unlink(2) of the entry itself (a symlink is removed, never what it points to). */
  unlink(name: string): void;
  /** lstat(2) of an entry; undefined when there is none. */
  stat(name: string): EntryStat | undefined;
  /** The printable-ASCII names in the directory (boxinit acts on no other), without . and .. */
  list(): string[];
  /** fsync(2) of the directory itself: its new names are on disk. */
  sync(): void;
  /** Close the descriptor; the handle is unusable afterwards. Idempotent. */
  close(): void;
}

/** A file system error shaped like Node's own (`code` is what errnoCode reads). */
const fsError = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

// A name is one component: "logs/../x", "..", "" would leave the directory the handle stands for.
const checkName = (name: string): void => {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw fsError("EINVAL", `not a single file name: ${JSON.stringify(name)}`);
  }
};

/** The kind of an entry from its st_mode. */
export const kindOf = (stat: EntryStat): "file" | "directory" | "symlink" | "other" => {
  const type = stat.mode & S_IFMT;
  return type === S_IFREG ? "file" : type === S_IFDIR ? "directory" : type === S_IFLNK ? "symlink" : "other";
};

// File systems without chmod (CIFS, some FUSE mounts) answer these: the mode stays what they give.
const MODE_UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/** fchmod that tolerates file systems without modes; other errors are thrown. */
export const setModeOf = (fd: number, mode: number): void => {
  try {
    fchmodSync(fd, mode);
  } catch (error) {
    if (!MODE_UNSUPPORTED.has(codeOf(error) ?? "")) throw error;
  }
};

// Said in words. openat(O_DIRECTORY|O_NOFOLLOW) answers ENOTDIR for a symlink
// too (Linux checks O_DIRECTORY first), so the caller tells the two apart.
const refusal = (error: unknown, label: string, isSymlink = false): unknown => {
  const code = isSymlink && codeOf(error) === "ENOTDIR" ? "ELOOP" : codeOf(error);
  if (code === "ELOOP") return fsError("ELOOP", `${label} is a symlink: refusing to work through it`);
  if (code === "ENOTDIR") return fsError("ENOTDIR", `${label} is not a directory: refusing to work through it`);
  return error;
};

const isPlainName = (name: string): boolean => /^[\x20-\x7e]+$/.test(name);

/** Names resolved against a descriptor with the addon's *at calls. */
class DescriptorDir implements DirHandle {
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

  subdir(name: string, createMode?: number): DirHandle {
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

const statOf = (stats: import("node:fs").Stats): EntryStat => ({
  mode: stats.mode, size: stats.size, mtimeMs: stats.mtimeMs, nlink: stats.nlink, uid: stats.uid, ino: stats.ino,
});

/** Without the addon: the same operations by path (the behaviour before descriptors). */
class PathDir implements DirHandle {
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

  subdir(name: string, createMode?: number): DirHandle {
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
        if (!MODE_UNSUPPORTED.has(codeOf(error) ?? "")) throw error;
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

/**
 * The state directory itself, open. Its configured path is the operator's and
 * is followed as given (symlinks included); everything boxinit makes inside it
 * is opened with O_NOFOLLOW (subdir). Throws ENOENT when it does not exist,
 * ENOTDIR when it is not a directory.
 */
export const openStateDir = (path: string, native: Native | undefined): DirHandle => {
  if (!native) {
    // Opened and closed at once: the same errors as with the addon (ENOENT, ENOTDIR, EACCES).
    closeSync(openSync(path, O_RDONLY | O_DIRECTORY));
    return new PathDir(path);
  }
  return new DescriptorDir(native, openSync(path, O_RDONLY | O_DIRECTORY), path);
};

/** Run fn with the state directory open; it is closed afterwards, whatever happened. */
export const withStateDir = <T>(path: string, native: Native | undefined, fn: (dir: DirHandle) => T): T => {
  const dir = openStateDir(path, native);
  try {
    return fn(dir);
  } finally {
    dir.close();
  }
};

/**
 * mkdir -p with exactly `mode` on every level it creates, whatever the umask
 * (existing levels keep theirs). Returns whether anything was created. Level
 * by level, not Node's recursive mkdir: that one says ENOENT where the real
 * problem is EROFS or EACCES.
 */
export const makeDirs = (path: string, mode: number): boolean => {
  const missing: string[] = [];
  for (let level = path; statSync(level, { throwIfNoEntry: false }) === undefined; level = dirname(level)) {
    if (dirname(level) === level) break;
    missing.unshift(level);
  }
  for (const level of missing) {
    try {
      mkdirSync(level, { mode });
    } catch (error) {
      if (codeOf(error) === "EEXIST") continue; // made meanwhile by someone else: theirs keeps its mode
      throw error;
    }
    // By descriptor, not by path: whoever can write the parent could swap the
    // new directory for a symlink in between, and a root chmod by path would
    // then set 0755 on its target (a host tool run as root making HOME).
    const fd = openSync(level, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      setModeOf(fd, mode);
    } finally {
      closeSync(fd);
    }
  }
  return missing.length > 0;
};

/**
 * Open a file of the directory, creating it when missing with exactly `mode`
 * whatever the umask (an existing file keeps its mode: someone chose it).
 * O_CREAT|O_EXCL tells a file made here from one that was there. `flags`
 * must not contain O_CREAT or O_EXCL.
 */
export const openOrCreate = (dir: DirHandle, name: string, flags: number, mode: number): { fd: number; isCreated: boolean } => {
  for (let attempt = 0; ; attempt++) {
    try {
      return { fd: dir.open(name, flags), isCreated: false };
    } catch (error) {
      if (codeOf(error) !== "ENOENT" || attempt >= 2) throw error;
    }
    let fd: number;
    try {
      fd = dir.open(name, flags | O_CREAT | O_EXCL, mode);
    } catch (error) {
      // Another writer made it between the two opens: use theirs.
      if (codeOf(error) === "EEXIST") continue;
      throw error;
    }
    try {
      setModeOf(fd, mode);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return { fd, isCreated: true };
  }
};

/** What to do about a state-directory errno, in words (undefined when there is nothing useful to say). */
export const stateDirHint = (code: string | undefined): string | undefined => {
  switch (code) {
    case "EROFS": return "the state directory is on a read-only file system: mount it read-write (or point --state-dir at a writable one)";
    case "ENOSPC": return "the file system is full";
    case "EDQUOT": return "the disk quota is exhausted";
    case "EACCES":
    case "EPERM": return `boxinit runs as uid ${process.getuid?.() ?? "?"}: make the state directory writable for it`;
    case "ELOOP": return "a symlink stands where boxinit keeps its own directory: remove it (boxinit never works through one)";
    case "ENOTDIR": return "a file stands where a directory belongs: remove it";
    default: return undefined;
  }
};

let hasWarnedByPath = false;

/**
 * Once per process: the warning that without the addon the state directory is
 * worked by path, so a swapped symlink is only checked for, not ruled out.
 * undefined when there is nothing (more) to say.
 */
export const byPathWarningOnce = (native: Native | undefined): string | undefined => {
  if (native || hasWarnedByPath) return undefined;
  hasWarnedByPath = true;
  return "no addon: logs/ and jobs/ are used by path, so a user who can write the state directory could swap them for a symlink between boxinit's check and its write (install boxinit.node to rule that out)";
};

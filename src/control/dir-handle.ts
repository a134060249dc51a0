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
import { closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { EntryStat, Native } from "../native/addon.ts";
import { DescriptorDir } from "./descriptor-dir.ts";
import { codeOf, setModeOf } from "./dir-checks.ts";
import { PathDir } from "./path-dir.ts";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_CREAT, O_EXCL } = constants;

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

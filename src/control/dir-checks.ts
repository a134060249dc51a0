// What both directory handles (descriptor-dir.ts, path-dir.ts) share: the
// one-component name check, refusals said in words, an entry's kind, and
// modes on file systems that have none.
import { constants, fchmodSync } from "node:fs";
import type { EntryStat } from "../native/addon.ts";

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = constants;

/** A file system error shaped like Node's own (`code` is what errnoCode reads). */
export const fsError = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

/** The errno code of a thrown file system error, if any. */
export const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/** EINVAL unless name is one component: "logs/../x", "..", "" would leave the directory the handle stands for. */
export const checkName = (name: string): void => {
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

/** True for the errnos of a file system without chmod: the mode stays what it gives. */
export const isModeUnsupported = (error: unknown): boolean => MODE_UNSUPPORTED.has(codeOf(error) ?? "");

/** fchmod that tolerates file systems without modes; other errors are thrown. */
export const setModeOf = (fd: number, mode: number): void => {
  try {
    fchmodSync(fd, mode);
  } catch (error) {
    if (!isModeUnsupported(error)) throw error;
  }
};

/**
 * A refusal to work through a symlink or a non-directory, said in words.
 * openat(O_DIRECTORY|O_NOFOLLOW) answers ENOTDIR for a symlink too (Linux
 * checks O_DIRECTORY first), so the caller tells the two apart (isSymlink).
 */
export const refusal = (error: unknown, label: string, isSymlink = false): unknown => {
  const code = isSymlink && codeOf(error) === "ENOTDIR" ? "ELOOP" : codeOf(error);
  if (code === "ELOOP") return fsError("ELOOP", `${label} is a symlink: refusing to work through it`);
  if (code === "ENOTDIR") return fsError("ENOTDIR", `${label} is not a directory: refusing to work through it`);
  return error;
};

/** True for a name boxinit acts on: printable ASCII only (any other would not round-trip). */
export const isPlainName = (name: string): boolean => /^[\x20-\x7e]+$/.test(name);

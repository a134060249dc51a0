// The small file-system steps of log-file.ts that must not throw past it
// (closing, cutting back a half-written batch, modes on file systems without
// them) and the words for its errnos.
import { closeSync, fchmodSync, ftruncateSync } from "node:fs";

/** The errno code of a thrown error; "internal" when it has none. */
export const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException | undefined)?.code ?? "internal";

/** A coded error for the refusals that no system call reports by itself. */
export const refused = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

/**
 * ftruncate back to the last whole line. Best effort: if even that fails, the
 * file keeps a partial line, which the next rotation closes off; the write's
 * own error is the one reported.
 */
export const cutBack = (fd: number, size: number): void => {
  try {
    ftruncateSync(fd, size);
  } catch {
    // Reported as the write's failure.
  }
};

/** close(2) that never throws: on EBADF or EIO the descriptor is gone either way (close(2)). */
export const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // Gone either way.
  }
};

/** fchmod; file systems without chmod (CIFS, some FUSE mounts) keep the mode they give. */
export const setMode = (fd: number, mode: number): void => {
  try {
    fchmodSync(fd, mode);
  } catch (error) {
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(codeOf(error))) throw error;
  }
};

/** What to do about an errno of the log file, in words. */
export const HINTS: Record<string, string | undefined> = {
  ENOSPC: "the file system is full",
  EDQUOT: "the disk quota is exhausted",
  EROFS: "the log directory is on a read-only file system",
  ELOOP: "a symlink stands where boxinit keeps its log directory or file: remove it (boxinit never writes through one)",
  ENOTDIR: "a file stands where the log directory belongs: remove it",
  EACCES: `boxinit runs as uid ${process.getuid?.() ?? "?"}: make the log directory writable for it`,
  EPERM: `boxinit runs as uid ${process.getuid?.() ?? "?"}: make the log directory writable for it`,
};

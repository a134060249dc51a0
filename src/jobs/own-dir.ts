// The directories job runs create inside the state directory (logs/, jobs/).
// The state directory is shared with the host: a symlink planted at logs/
// would make a root job write its report, or retention delete files, wherever
// it points. Each is opened once by descriptor, without following a symlink
// (control/dir-handle.ts), and every file in it is reached through that
// descriptor, so swapping the name afterwards changes nothing.
import type { DirHandle } from "../control/dir-handle.ts";

export const LOGS_DIR = "logs";
export const LOCK_DIR = "jobs";

/** What logs/ and jobs/ are created with, whatever the umask: other uids' runs and host tools read (and, where allowed, write) them. */
export const OWN_DIR_MODE = 0o755;

/**
 * stateDir/name open, created (0755) when missing; throws an ELOOP-coded error
 * when it is a symlink, ENOTDIR when it is not a directory.
 */
export const ownDir = (stateDir: DirHandle, name: string): DirHandle => stateDir.subdir(name, OWN_DIR_MODE);

/** stateDir/name open when it exists (undefined when missing); a symlink or non-directory throws as in ownDir. */
export const existingOwnDir = (stateDir: DirHandle, name: string): DirHandle | undefined => {
  try {
    return stateDir.subdir(name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
};

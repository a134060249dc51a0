// The directory of the services' log files (log_files.dir, default
// STATE_DIR/logs/services), open by descriptor like logs/ and jobs/
// (dir-handle.ts). Inside the state directory every level below it is opened
// without following a symlink, so a host user who can write the state
// directory cannot point boxinit's writes elsewhere; outside it, the
// operator's path is followed up to DIR's parent and DIR itself is not.
import { dirname, basename, relative, isAbsolute, sep } from "node:path";
import type { Native } from "../native/addon.ts";
import { makeDirs, openStateDir, type DirHandle } from "./dir-handle.ts";

/** The log directory's mode when boxinit makes it, whatever the umask: as logs/ (host tools read it; the state directory's own mode says who may). */
export const LOG_DIR_MODE = 0o755;

/** Levels between the state directory and the log directory (logs/) get the mode of logs/ for job reports. */
const BETWEEN_MODE = 0o755;

/** The levels of `dir` below `stateDir`, or undefined when dir is not inside it. */
export const levelsInside = (dir: string, stateDir: string): string[] | undefined => {
  const rel = relative(stateDir, dir);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return rel.split(sep);
};

/**
 * Open the log directory; with `create`, make what is missing (modes as
 * above). Throws a coded error: ELOOP when a symlink stands at a level
 * boxinit owns, ENOTDIR, EACCES, EROFS, ENOENT (without create).
 */
export const openLogDir = (dir: string, stateDir: string, native: Native | undefined, create: boolean): DirHandle => {
  const levels = levelsInside(dir, stateDir);
  const top = levels ? stateDir : dirname(dir);
  const below = levels ?? [basename(dir)];
  if (create) makeDirs(top, BETWEEN_MODE);
  let handle = openStateDir(top, native);
  try {
    for (const [index, name] of below.entries()) {
      const mode = index === below.length - 1 ? LOG_DIR_MODE : BETWEEN_MODE;
      const next = handle.subdir(name, create ? mode : undefined);
      handle.close();
      handle = next;
    }
    return handle;
  } catch (error) {
    handle.close();
    throw error;
  }
};

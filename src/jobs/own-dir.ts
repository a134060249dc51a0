// The directories job runs create inside the state directory (logs/, jobs/).
// The state directory is shared with the host: a symlink planted at logs/
// would make a root job write its report, or retention delete files, wherever
// it points. O_NOFOLLOW only guards a path's last component, so the directory
// itself is checked.
import { lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** stateDir/name, created (0755) when missing; throws an ELOOP-coded error when it is a symlink or not a directory. */
export const ownDir = (stateDir: string, name: string): string => {
  const dir = join(stateDir, name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stats = lstatSync(dir);
  if (!stats.isDirectory()) {
    const what = stats.isSymbolicLink() ? "a symlink" : "not a directory";
    throw Object.assign(new Error(`${dir} is ${what}: refusing to write through it`), { code: stats.isSymbolicLink() ? "ELOOP" : "ENOTDIR" });
  }
  return dir;
};

/** Whether path is a symlink (never followed into: see the top of this file). */
export const isSymlink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

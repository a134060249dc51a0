// Small steps the state-directory tests take on a DirHandle (src/control/dir-handle.ts).
import { closeSync, constants, writeSync } from "node:fs";
import type { DirHandle } from "../../src/control/dir-handle.ts";

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = constants;

/** The handle, closed in the test's teardown. */
export const opened = (t: { teardown(fn: () => void): void }, dir: DirHandle): DirHandle => {
  t.teardown(() => dir.close());
  return dir;
};

/** Create name in dir (it must not exist, nor be a symlink) holding text. */
export const writeNew = (dir: DirHandle, name: string, text: string): void => {
  const fd = dir.open(name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
};

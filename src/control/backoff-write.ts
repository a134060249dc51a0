// Writing the backoff file the running boxinit watches (`boxinit backoff`,
// `boxinit host backoff`): atomically (temp + rename, a planted symlink is
// replaced), in its directory as opened once (dir-handle.ts): the state
// directory, or backoff.file's own (which, in a Pod, is a read-only ConfigMap).
import { basename, dirname, join } from "node:path";
import { loadNative } from "../native/addon.ts";
import { errnoCode, writeFileAtomic } from "./atomic-write.ts";
import { BACKOFF_FILE, checkBackoffFile } from "./backoff.ts";
import { withStateDir } from "./dir-handle.ts";

const CONTENT = { on: "true\n", off: "false\n" } as const;

const HINTS: Record<string, string> = {
  ENOENT: "the state directory does not exist: pass --state-dir (or BOXINIT_STATE_DIR) as given to boxinit",
  ENOTDIR: "the state directory path is not a directory",
  EROFS: "read-only file system: the backoff file is managed elsewhere (a ConfigMap?) or the volume is mounted read-only",
  EACCES: "no write permission in the state directory",
  EPERM: "no write permission in the state directory",
  ENOSPC: "the file system is full",
};

export type BackoffWord = keyof typeof CONTENT;

/** The outcome of writing the backoff file: whether it already said so, or why it failed. */
export type BackoffWrite = { ok: true; file: string; wasAlready: boolean } | { ok: false; file: string; message: string; hint: string | undefined };

// backoff.file outside the state directory: its own words for what the state directory's hints say.
const OWN_FILE_HINTS: Record<string, string> = {
  ENOENT: "its directory does not exist: is the ConfigMap (or volume) mounted there?",
  ENOTDIR: "its directory path is not a directory",
  EACCES: "no write permission in its directory",
  EPERM: "no write permission in its directory",
  ENOSPC: "the file system is full",
};

/**
 * Write "true" (on) or "false" (off) atomically to `file` (default
 * <stateDir>/backoff; backoff.file when PID 1 watches another); never throws
 * for file errors. A read-only backoff.file outside the state directory is
 * a mounted ConfigMap: said so, for it is changed by changing the ConfigMap.
 */
export const writeBackoffWord = (stateDir: string, word: BackoffWord, file: string = join(stateDir, BACKOFF_FILE)): BackoffWrite => {
  const isOwnFile = dirname(file) !== stateDir.replace(/\/+$/, "") || basename(file) !== BACKOFF_FILE;
  const before = checkBackoffFile(file).engaged;
  try {
    withStateDir(dirname(file), loadNative().native, (dir) => writeFileAtomic(dir, basename(file), CONTENT[word]));
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    if (isOwnFile && code === "EROFS") {
      return { ok: false, file, message: `backoff.file ${file} is read-only (a ConfigMap?): change the ConfigMap`, hint: `e.g. kubectl patch configmap NAME-control -p '{"data":{"${basename(file)}":"${CONTENT[word].trim()}"}}'` };
    }
    const hint = isOwnFile ? OWN_FILE_HINTS[code] : HINTS[code];
    return { ok: false, file, message: `cannot write ${file}: ${error instanceof Error ? error.message : code}`, hint };
  }
  return { ok: true, file, wasAlready: before === (word === "on") };
};

/** What writeBackoffWord did, in words. */
export const describeBackoffWrite = (word: BackoffWord, written: BackoffWrite & { ok: true }): string =>
  `${word}: wrote "${CONTENT[word].trim()}" to ${written.file}${written.wasAlready ? ` (it was already ${word})` : ""}`;

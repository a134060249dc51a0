// Writing the backoff file the running boxinit watches (`boxinit backoff`,
// `boxinit host backoff`): atomically (temp + rename, a planted symlink is
// replaced), in the state directory as opened once (dir-handle.ts).
import { join } from "node:path";
import { loadNative } from "../native/addon.ts";
import { errnoCode, writeFileAtomic } from "./atomic-write.ts";
import { BACKOFF_FILE, checkBackoff } from "./backoff.ts";
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

/** Write "true" (on) or "false" (off) to <stateDir>/backoff atomically; never throws for file errors. */
export const writeBackoffWord = (stateDir: string, word: BackoffWord): BackoffWrite => {
  const file = join(stateDir, BACKOFF_FILE);
  const before = checkBackoff(stateDir).engaged;
  try {
    withStateDir(stateDir, loadNative().native, (dir) => writeFileAtomic(dir, BACKOFF_FILE, CONTENT[word]));
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    return { ok: false, file, message: `cannot write ${file}: ${error instanceof Error ? error.message : code}`, hint: HINTS[code] };
  }
  return { ok: true, file, wasAlready: before === (word === "on") };
};

/** What writeBackoffWord did, in words. */
export const describeBackoffWrite = (word: BackoffWord, written: BackoffWrite & { ok: true }): string =>
  `${word}: wrote "${CONTENT[word].trim()}" to ${written.file}${written.wasAlready ? ` (it was already ${word})` : ""}`;

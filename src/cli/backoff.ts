// `boxinit backoff on|off`: writes the backoff file the running boxinit
// watches, atomically (temp + rename, a planted symlink is replaced), both in
// the state directory as opened once (control/dir-handle.ts).
// Exit 0 written, 1 could not write, 2 usage.
import { join } from "node:path";
import { loadNative } from "../native/addon.ts";
import { errnoCode, writeFileAtomic } from "../control/atomic-write.ts";
import { BACKOFF_FILE, checkBackoff } from "../control/backoff.ts";
import { withStateDir } from "../control/dir-handle.ts";
import { processIo, type CommandIo } from "./status.ts";

const USAGE = `usage: boxinit backoff on|off

  on   write "true": the running boxinit stops its services and exits;
       a new start (or a job) does nothing while it stays on
  off  write "false"
`;

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

/** `boxinit backoff on|off` for the state directory; returns the exit code. */
export const backoffCommand = (args: readonly string[], stateDir: string, io: CommandIo = processIo): number => {
  const [word, ...extra] = args;
  if (word === "-h" || word === "--help") {
    io.stdout(USAGE);
    return 0;
  }
  if ((word !== "on" && word !== "off") || extra.length > 0) {
    const got = args.length === 0 ? "nothing" : JSON.stringify(args.join(" "));
    io.stderr(`boxinit backoff: expected on or off, got ${got}\n${USAGE}`);
    return 2;
  }
  const written = writeBackoffWord(stateDir, word);
  if (!written.ok) {
    io.stderr(`boxinit backoff: ${written.message}\n${written.hint ? `  hint: ${written.hint}\n` : ""}`);
    return 1;
  }
  io.stdout(`boxinit backoff: ${describeBackoffWrite(word, written)}\n`);
  return 0;
};

// `boxinit backoff on|off`: writes the backoff file the running boxinit
// watches, atomically (temp + rename, a planted symlink is replaced).
// Exit 0 written, 1 could not write, 2 usage.
import { join } from "node:path";
import { errnoCode, writeFileAtomic } from "../control/atomic-write.ts";
import { BACKOFF_FILE, checkBackoff } from "../control/backoff.ts";
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
  const file = join(stateDir, BACKOFF_FILE);
  const before = checkBackoff(stateDir).engaged;
  try {
    writeFileAtomic(stateDir, BACKOFF_FILE, CONTENT[word]);
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    const hint = HINTS[code];
    io.stderr(`boxinit backoff: cannot write ${file}: ${error instanceof Error ? error.message : code}\n${hint ? `  hint: ${hint}\n` : ""}`);
    return 1;
  }
  const wasAlready = before === (word === "on");
  io.stdout(`boxinit backoff: ${word}: wrote "${CONTENT[word].trim()}" to ${file}${wasAlready ? ` (it was already ${word})` : ""}\n`);
  return 0;
};

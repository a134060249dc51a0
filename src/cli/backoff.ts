// `boxinit backoff on|off`: its arguments and usage text. The run is
// modes/side.ts; the write itself control/backoff-write.ts.
// Exit 0 written, 1 could not write, 2 usage.
import type { BackoffWord } from "../control/backoff-write.ts";

export const BACKOFF_USAGE = `usage: boxinit backoff on|off

  on   write "true": the running boxinit stops its services and exits
       (with backoff.on_engage idle it stays up, not ready); a new start
       (or a job) does nothing while it stays on
  off  write "false" (an idle boxinit boots its services again)

  The file is <state_dir>/backoff. A backoff.file in a ConfigMap is
  read-only: change the ConfigMap instead.
`;

/** Parse `backoff` argv: the word, "help", or the usage error's text. */
export const parseBackoffArgs = (args: readonly string[]): BackoffWord | "help" | { error: string } => {
  const [word, ...extra] = args;
  if (word === "-h" || word === "--help") return "help";
  if ((word !== "on" && word !== "off") || extra.length > 0) {
    const got = args.length === 0 ? "nothing" : JSON.stringify(args.join(" "));
    return { error: `expected on or off, got ${got}` };
  }
  return word;
};

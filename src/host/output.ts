// Where the host commands' lines go: stdout, one line per decision (what a
// crontab mails); tests collect them instead.
import { writeLine } from "../log/logger.ts";
import { escapeControls } from "../control/backoff.ts";

export interface HostOutput {
  /** One line; control characters (from container names, engine messages, files) are escaped. */
  say(line: string): void;
}

/** Lines to stdout, prefixed so a crontab's mail says which tool spoke. */
export const stdoutOutput = (verb: string): HostOutput => ({
  say: (line) => writeLine(1, `boxinit host ${verb}: ${escapeControls(line)}\n`),
});

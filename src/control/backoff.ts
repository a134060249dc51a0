// The backoff file (<state_dir>/backoff, or backoff.file: a mounted ConfigMap
// directory in a Pod): what engages it (parseBackoff, pure) and how it is read
// (readBackoffFile: follows symlinks, bounded, never blocks).
import { join } from "node:path";
import { errnoCode, isMissing, readRegularFile } from "./atomic-write.ts";

export const BACKOFF_FILE = "backoff";

/** Only the first bytes decide; "true" plus whitespace fits many times over. */
export const BACKOFF_READ_BYTES = 4096;

const SHOWN_CHARS = 40;

export interface BackoffValue {
  engaged: boolean;
  /** Content that is neither true, false nor empty, escaped and shortened for a log line. */
  unexpected?: string;
}

// C0, DEL and C1 controls would break the one-line log or a terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Text safe for one line of a log or a terminal: control characters escaped. */
export const escapeControls = (text: string): string =>
  text.replace(CONTROL, (c) => NAMED_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** Text as it may appear in a one-line log: controls escaped, at most 40 characters kept. */
export const showContent = (text: string): string => {
  const characters = Array.from(text);
  const escaped = escapeControls(characters.slice(0, SHOWN_CHARS).join(""));
  return characters.length > SHOWN_CHARS ? `${escaped}…` : escaped;
};

/**
 * Engaged only when the trimmed content is exactly `true` (case-sensitive,
 * as the spec and the seed's shell test `[ "$(cat backoff)" = true ]`).
 * Missing, empty or `false`: not engaged, nothing to say. Anything else
 * (`ture`, `yes`, `TRUE`, `1`): not engaged, and reported as unexpected.
 */
export const parseBackoff = (text: string | undefined): BackoffValue => {
  // trim() also drops CR (files edited on Windows) and a UTF-8 BOM (U+FEFF).
  const trimmed = text?.trim() ?? "";
  if (trimmed === "true") return { engaged: true };
  if (trimmed === "" || trimmed === "false") return { engaged: false };
  return { engaged: false, unexpected: showContent(trimmed) };
};

/**
 * The content of the backoff file at `file`, or undefined when it (or its
 * directory, or a link's target) does not exist. Follows symlinks (ConfigMap
 * style: backoff -> ..data/backoff). Throws the system error when it exists
 * but cannot be read, and an EINVAL-coded error when it is not a regular file
 * (a FIFO cannot block us).
 */
export const readBackoffFile = (file: string): string | undefined => {
  try {
    return readRegularFile(file, BACKOFF_READ_BYTES).toString("utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
};

/** readBackoffFile of <stateDir>/backoff, the file host tools write. */
export const readBackoff = (stateDir: string): string | undefined => readBackoffFile(join(stateDir, BACKOFF_FILE));

export interface BackoffCheck extends BackoffValue {
  /** Why the file could not be read (the errno code); then engaged is false. */
  readError?: string;
}

/** readBackoffFile + parseBackoff for one-shot callers: never throws for file errors. */
export const checkBackoffFile = (file: string): BackoffCheck => {
  try {
    return parseBackoff(readBackoffFile(file));
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    return { engaged: false, readError: code };
  }
};

/** checkBackoffFile of <stateDir>/backoff (`boxinit job`, the host tool). */
export const checkBackoff = (stateDir: string): BackoffCheck => checkBackoffFile(join(stateDir, BACKOFF_FILE));

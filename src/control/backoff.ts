// The backoff file, <state_dir>/backoff: what engages it (parseBackoff, pure)
// and how it is read (readBackoff: follows symlinks, bounded, never blocks).
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
 * The content of <stateDir>/backoff, or undefined when it (or the directory)
 * does not exist. Follows symlinks (ConfigMap style: backoff -> ..data/backoff).
 * Throws the system error when it exists but cannot be read, and an
 * EINVAL-coded error when it is not a regular file (a FIFO cannot block us).
 */
export const readBackoff = (stateDir: string): string | undefined => {
  try {
    return readRegularFile(join(stateDir, BACKOFF_FILE), BACKOFF_READ_BYTES).toString("utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
};

export interface BackoffCheck extends BackoffValue {
  /** Why the file could not be read (the errno code); then engaged is false. */
  readError?: string;
}

/** readBackoff + parseBackoff for one-shot callers (`boxinit job`): never throws. */
export const checkBackoff = (stateDir: string): BackoffCheck => {
  try {
    return parseBackoff(readBackoff(stateDir));
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    return { engaged: false, readError: code };
  }
};

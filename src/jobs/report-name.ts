// The failure report's file name, the seed's pattern:
// <ISO-8601 UTC>-cron-failure-<NAME>-exit-<CODE>-<HOSTNAME>. NAME and HOSTNAME
// come from the command line and the environment, so they are sanitised until
// the result is one plain file name inside logs/; retention recognises its own
// reports by the same pattern.

import { isoTime } from "../time/iso-time.ts";

const NAME_FALLBACK = "job";
const HOST_FALLBACK = "unknown-host";

/** Each sanitised part is capped so the whole name (at most 172 bytes) stays under NAME_MAX (255) with room for the writer's ".<name>.<pid>.<random>.tmp". */
export const MAX_NAME_PART = 64;

/**
 * The longest job name, in UTF-8 bytes, wherever a name is accepted
 * (`boxinit job NAME`, `jobs:` in the config). Its report's name then stays
 * at most 171 bytes (time 20, "-cron-failure-" 14, NAME 63, "-exit-" 6,
 * code 3, "-" 1, HOSTNAME 64), far under NAME_MAX (255) with the writer's
 * temp-file affixes, no two names are cut to the same report name, and a
 * status.json record stays small. The same 63 as a service's name.
 */
export const MAX_JOB_NAME_BYTES = 63;

/** A long name shown in a message: its first 32 characters and an ellipsis. */
export const abbreviateName = (name: string): string => ([...name].length > 40 ? `${[...name].slice(0, 32).join("")}…` : name);

/** Why a job name is refused (pure), or undefined when it is accepted; the caller names where it came from. */
export const jobNameProblem = (name: string): string | undefined => {
  if (name === "") return "a job name cannot be empty";
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes <= MAX_JOB_NAME_BYTES) return undefined;
  return `a job name is at most ${MAX_JOB_NAME_BYTES} bytes (it is part of the failure report's file name), got ${bytes}`;
};

const MAX_EXIT_CODE = 255;
const UNSAFE_CHAR = /[^A-Za-z0-9._-]/gu;

/**
 * UTC to the second, no milliseconds: 2026-11-26T07:55:16Z (truncated, as
 * toISOString). Throws RangeError for an invalid Date (toISOString's). Years
 * outside 0000..9999 come out as ±YYYYYY, which REPORT_NAME_PATTERN refuses.
 */
export const isoSeconds = (date: Date): string => isoTime(date.getTime()).replace(/\.\d{3}Z$/, "Z");

/**
 * A name part safe as part of one file name: characters outside
 * [A-Za-z0-9._-] become "_" (one per code point, so "é" or "😀" is one "_"),
 * leading dots are stripped (no hidden files, no "." or ".."), at most
 * MAX_NAME_PART characters; empty after that → fallback (trusted, not checked).
 */
export const sanitizeNamePart = (raw: string, fallback: string): string => {
  const safe = raw.replace(UNSAFE_CHAR, "_").replace(/^\.+/, "").slice(0, MAX_NAME_PART);
  return safe === "" ? fallback : safe;
};

/**
 * The exit code as written in the name: an integer 0..255, the range of a wait
 * status (128+N for a signal fits). Anything else is a caller bug, but the
 * report must still be written: fractions are truncated, out-of-range values
 * clamped, NaN becomes 255.
 */
const exitCodePart = (exitCode: number): number =>
  Number.isNaN(exitCode) ? MAX_EXIT_CODE : Math.min(MAX_EXIT_CODE, Math.max(0, Math.trunc(exitCode)));

/** The report's file name: 2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01. */
export const reportFileName = (at: Date, name: string, exitCode: number, hostname: string): string =>
  `${isoSeconds(at)}-cron-failure-${sanitizeNamePart(name, NAME_FALLBACK)}-exit-${exitCodePart(exitCode)}-${sanitizeNamePart(hostname, HOST_FALLBACK)}`;

/**
 * Names reportFileName can produce, and no others (the pattern,
 * tightened so retention never claims a file that is not ours): a part is
 * 1..64 allowed characters not starting with a dot, the code 0..255 without
 * leading zeros. Names can contain "-exit-", so only the time is parsed back.
 * A name ending in ".tmp" can match (the hostname "h.tmp" is legal); the
 * writer's temp files start with a dot, and this pattern starts with a digit.
 * Whether the date is a real one is checked by parseReportTime.
 */
export const REPORT_NAME_PATTERN =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ-cron-failure-[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}-exit-(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)-[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

const TIME_LENGTH = "2026-11-26T07:55:16Z".length;

/** The time encoded in a report's name; undefined for a name that is not one of ours (or a date that does not exist, 2026-02-30). */
export const parseReportTime = (fileName: string): Date | undefined => {
  if (!REPORT_NAME_PATTERN.test(fileName)) return undefined;
  const time = fileName.slice(0, TIME_LENGTH);
  const date = new Date(time);
  // V8 rolls 2026-02-30 over to March 2 and reads T24:00:00 as the next midnight: require the round trip.
  return Number.isNaN(date.getTime()) || isoSeconds(date) !== time ? undefined : date;
};

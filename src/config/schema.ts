// The building blocks of the strict schema: one reader per kind of value, each
// returning the value or undefined and adding `<path>: expected <what>, got <found>`
// to the shared problem list, so that every problem is reported at once.
// undefined means "key absent" (the default applies); null, a key written with
// no value, is reported as "got nothing", except where an empty map or list makes sense.
import { MAX_TIMER_MS, parseDurationMs } from "./duration.ts";
import { parseSignal } from "../pid1/signals.ts";

/** Problems found so far; readers append, nobody throws. */
export interface Issues {
  errors: string[];
  warnings: string[];
}

/** A YAML map as the loader sees it (null prototype: `__proto__` is just a key). */
export type RawMap = Record<string, unknown>;

/** Node's timers fire at once, with only a warning, beyond 2^31-1 ms (about 24.8 days). */
export { MAX_TIMER_MS } from "./duration.ts";

const DURATION_HINT = "a duration such as 250ms, 9s, 5m";

/** What was found, for the "got ..." part of a message. */
export const describeValue = (value: unknown): string => {
  if (value === undefined || value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return JSON.stringify(value);
};

/** `services.web` + `env` → `services.web.env`; keys that are not plain words are quoted: `links["/a/b"]`. */
export const keyPath = (parent: string, key: string): string => {
  const isWord = /^[A-Za-z0-9_-]+$/.test(key);
  if (parent === "") return isWord ? key : JSON.stringify(key);
  return isWord ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
};

/** Add `<path>: expected <what>, got <found>`; returns undefined so readers can `return expected(...)`. */
export const expected = (issues: Issues, path: string, what: string, found: unknown): undefined => {
  issues.errors.push(`${path}: expected ${what}, got ${describeValue(found)}`);
  return undefined;
};

/** Levenshtein distance, for "did you mean" hints. */
export const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
};

/** The known key closest to a misspelt one, when it is within two edits. */
export const closestKey = (key: string, known: readonly string[]): string | undefined => {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
};

/** Report every key of a map that the schema does not know. */
export const checkKeys = (map: RawMap, known: readonly string[], path: string, issues: Issues): void => {
  for (const key of Object.keys(map)) {
    if (known.includes(key)) continue;
    const suggestion = closestKey(key, known);
    const hint = suggestion === undefined ? "" : ` (did you mean ${JSON.stringify(suggestion)}?)`;
    issues.errors.push(`${keyPath(path, key)}: unknown key${hint}`);
  }
};

/** True for a map: an object that is not a list (nor null). */
export const isMap = (value: unknown): value is RawMap => typeof value === "object" && value !== null && !Array.isArray(value);

/** A list; absent and null (written empty) both give [] without a problem. */
export const readList = (value: unknown, path: string, issues: Issues, what: string): unknown[] => {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  expected(issues, path, what, value);
  return [];
};

/** A map; null (written empty) and absent both give undefined without a problem. */
export const readMap = (value: unknown, path: string, issues: Issues, what = "a map"): RawMap | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object" && !Array.isArray(value)) return value as RawMap;
  expected(issues, path, what, value);
  return undefined;
};

/** A duration in ms that a timer waits for; `mustBePositive` for intervals, where 0 would be a busy loop. */
export const readDuration = (value: unknown, path: string, issues: Issues, mustBePositive = false): number | undefined => {
  const ms = readAge(value, path, issues, mustBePositive);
  if (ms !== undefined && ms > MAX_TIMER_MS) return expected(issues, path, "a duration up to 596h (the timer limit)", value);
  return ms;
};

/**
 * A duration in ms that is only compared with ages (of files, of runs), never
 * given to a timer: Node's timer limit does not apply (job_logs.max_age: 30d).
 */
export const readAge = (value: unknown, path: string, issues: Issues, mustBePositive = false): number | undefined => {
  if (value === undefined) return undefined;
  const ms = typeof value === "string" ? parseDurationMs(value) : undefined;
  if (ms === undefined) return expected(issues, path, DURATION_HINT, value);
  if (mustBePositive && ms === 0) return expected(issues, path, "a duration above 0", value);
  return ms;
};

/** One of a fixed set of words. */
export const readChoice = <T extends string>(value: unknown, choices: readonly T[], path: string, issues: Issues): T | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  return expected(issues, path, choices.join("|"), value);
};

/** true or false. */
export const readBoolean = (value: unknown, path: string, issues: Issues): boolean | undefined => {
  if (value === undefined) return undefined;
  if (value === "true" || value === "false") return value === "true";
  return expected(issues, path, "true|false", value);
};

/** A whole number, 0 or more. */
export const readCount = (value: unknown, path: string, issues: Issues): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && /^\d{1,9}$/.test(value)) return Number(value);
  return expected(issues, path, "a whole number 0 or more", value);
};

/** An absolute path. */
export const readAbsolutePath = (value: unknown, path: string, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.startsWith("/")) return value;
  return expected(issues, path, "an absolute path", value);
};

// execve(2) and open(2) take C strings: a NUL byte would silently end the
// word or path there ([sh, -c, 'echo $1', "x\0y"] passes "x"), and Node's fs
// throws on such a path. The config refuses it, as books refuse control characters.
export const WITHOUT_NUL = "text without NUL bytes (a NUL byte would cut it short)";

/** Whether text holds a NUL byte, which no argv word, variable or path can carry. */
export const hasNul = (text: string): boolean => text.includes("\0");

/** A reader that first refuses a string holding a NUL byte: for values that reach exec or open. */
export const refusingNul = <T>(read: (value: unknown, path: string, issues: Issues) => T | undefined) =>
  (value: unknown, path: string, issues: Issues): T | undefined =>
    typeof value === "string" && hasNul(value) ? expected(issues, path, WITHOUT_NUL, value) : read(value, path, issues);

/** An absolute path that reaches open or exec (cwd, pidfile): no NUL byte. */
export const readExecPath = refusingNul(readAbsolutePath);

// /proc and /sys are kernel file systems: nothing of ours can be created there,
// and Node's recursive mkdir never returns on procfs (it loops), which would
// hang PID 1 before anything starts.
const KERNEL_FILE_SYSTEMS = /^\/(proc|sys)(\/|$)/;

/** An absolute path boxinit creates things in (state_dir, links): not under /proc or /sys. */
export const readWritablePath = (value: unknown, path: string, issues: Issues): string | undefined => {
  const absolute = readAbsolutePath(value, path, issues);
  if (absolute !== undefined && KERNEL_FILE_SYSTEMS.test(absolute)) return expected(issues, path, "a path outside /proc and /sys", value);
  return absolute;
};

/** A non-empty string (names, URLs). */
export const readText = (value: unknown, path: string, issues: Issues, what = "a string"): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.trim() !== "") return value;
  return expected(issues, path, what, value);
};

const COMMAND_HINT = "a command (a list of strings, or a string for sh -c)";

/** A command: an argv list, or a string run by `/bin/sh -c` (as Docker's shell form). */
export const readCommand = (value: unknown, path: string, issues: Issues): string[] | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    if (value.trim() !== "") return ["/bin/sh", "-c", value];
    return expected(issues, path, COMMAND_HINT, value);
  }
  if (!Array.isArray(value) || value.length === 0) return expected(issues, path, COMMAND_HINT, value);
  const badIndex = value.findIndex((arg, index) => typeof arg !== "string" || (index === 0 && arg === ""));
  if (badIndex < 0) return value as string[];
  const what = badIndex === 0 ? "a program name" : "a string";
  return expected(issues, `${path}[${badIndex}]`, what, value[badIndex]);
};

/** A command that boxinit runs (services, stop, warm-up, jobs, hooks): no word holds a NUL byte. */
export const readExecCommand = (value: unknown, path: string, issues: Issues): string[] | undefined => {
  if (typeof value === "string" && hasNul(value)) return expected(issues, path, WITHOUT_NUL, value);
  const nulIndex = Array.isArray(value) ? value.findIndex((arg) => typeof arg === "string" && hasNul(arg)) : -1;
  if (nulIndex >= 0) return expected(issues, `${path}[${nulIndex}]`, WITHOUT_NUL, (value as unknown[])[nulIndex]);
  return readCommand(value, path, issues);
};

/** A list of non-empty strings, or one string meaning a list of one. */
export const readNameList = (value: unknown, path: string, issues: Issues): string[] | undefined => {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list)) return expected(issues, path, "a name or a list of names", value);
  const names: string[] = [];
  list.forEach((item, index) => {
    if (typeof item === "string" && item !== "") names.push(item);
    else expected(issues, typeof value === "string" ? path : `${path}[${index}]`, "a name", item);
  });
  return names;
};

/**
 * A signal to stop with: TERM, SIGTERM or 15. SIGSTOP is refused: it cannot be
 * caught and never ends a process, so the stop would always run into the grace deadline.
 */
export const readStopSignal = (value: unknown, path: string, issues: Issues): number | undefined => {
  if (value === undefined) return undefined;
  const signal = typeof value === "string" ? parseSignal(value) : undefined;
  if (signal === undefined || signal === 0) return expected(issues, path, "a signal name such as TERM or SIGINT", value);
  if (signal === 19) return expected(issues, path, "a signal that ends a process (STOP only pauses it)", value);
  return signal;
};

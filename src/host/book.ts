// Reads a book (one service's YAML for `boxinit host`) into a Book: the file
// read, then one small reader per key. Every problem is collected and returned
// at once, each as `<file>: <path>: expected <what>, got <found>`. The keys'
// readers: book-image.ts (name, image, entrypoint, command),
// book-mounts.ts (maps, home), book-network.ts (port, network, hostname); the
// rest are here.
import { readRegularFile } from "../control/atomic-write.ts";
import { checkKeys, describeValue, expected, isMap, keyPath, readCommand, readCount, readDuration, readMap, type Issues, type RawMap } from "../config/schema.ts";
import { readEnv } from "../config/services.ts";
import { parseYamlText } from "../config/yaml-text.ts";
import { readBookCommand, readEntrypoint, readImage, readName } from "./book-image.ts";
import { readKube } from "./book-kube.ts";
import { readHome, readMaps } from "./book-mounts.ts";
import { readHostname, readNetwork, readPorts } from "./book-network.ts";
import type { Book, BookResult, Healthcheck } from "./book-types.ts";

const TOP_KEYS = ["name", "image", "entrypoint", "command", "port", "maps", "home", "env", "restart", "healthcheck", "network", "hostname", "stop_timeout", "kube"] as const;
const HEALTHCHECK_KEYS = ["test", "interval", "timeout", "start_period", "retries"] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESTART_PATTERN = /^(?:no|always|unless-stopped|on-failure(?::\d{1,9})?)$/;

// Far above any real book; bounds what a wrong path (/dev/zero) can cost.
const MAX_BOOK_BYTES = 1024 * 1024;

/** `env:` NAME: value; names as a shell can set them (readEnv checks the values). */
const readBookEnv = (value: unknown, issues: Issues): Record<string, string> => {
  const map = readMap(value, "env", issues, "a map of variable names to values");
  const named: RawMap = Object.create(null);
  for (const [name, text] of Object.entries(map ?? {})) {
    if (ENV_NAME.test(name)) named[name] = text;
    else expected(issues, keyPath("env", name), "a variable name of letters, digits and _, not starting with a digit", name);
  }
  return readEnv(named, "env", issues);
};

/** `restart:` Docker's restart policy, as `docker run --restart` spells it. */
const readRestart = (value: unknown, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && RESTART_PATTERN.test(value)) return value;
  return expected(issues, "restart", "no, always, unless-stopped, on-failure or on-failure:N", value);
};

/** `healthcheck.test`: an argv runs as CMD, a string in the container's shell (CMD-SHELL). */
const readHealthTest = (value: unknown, issues: Issues): string[] | undefined => {
  // null rather than undefined: test is required, and readCommand reports null as "got nothing".
  const argv = readCommand(value ?? null, "healthcheck.test", issues);
  if (argv === undefined) return undefined;
  return typeof value === "string" ? ["CMD-SHELL", value] : ["CMD", ...argv];
};

/** `healthcheck:` none (or false) to switch the image's off, or a map with test. */
const readHealthcheck = (value: unknown, issues: Issues): Healthcheck | undefined => {
  if (value === undefined) return undefined;
  if (value === "none" || value === "false") return "none";
  if (!isMap(value)) return expected(issues, "healthcheck", "none, false, or a map with test", value);
  checkKeys(value, HEALTHCHECK_KEYS, "healthcheck", issues);
  const test = readHealthTest(value.test, issues);
  const intervalMs = readDuration(value.interval, "healthcheck.interval", issues, true);
  const timeoutMs = readDuration(value.timeout, "healthcheck.timeout", issues, true);
  const startPeriodMs = readDuration(value.start_period, "healthcheck.start_period", issues, true);
  const retries = readCount(value.retries, "healthcheck.retries", issues);
  if (test === undefined) return undefined;
  return {
    test,
    ...(intervalMs !== undefined && { intervalMs }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(startPeriodMs !== undefined && { startPeriodMs }),
    ...(retries !== undefined && { retries }),
  };
};

// C0 controls other than tab and newline, and DEL: no command or variable
// needs them, and `--dry-run` prints these values, where an ESC would reach
// the terminal (POSIX sh has no quoting that shows it as text).
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** Refuse control characters in the values that end up in a command line. */
const checkNoControls = (values: Record<string, readonly string[] | Record<string, string>>, issues: Issues): void => {
  for (const [key, words] of Object.entries(values)) {
    for (const [index, word] of Object.entries(words)) {
      if (!CONTROL_CHARACTER.test(word)) continue;
      const path = Array.isArray(words) ? `${key}[${index}]` : keyPath(key, index);
      expected(issues, key === "healthcheck" ? `${key}.test` : path, "text without control characters (tab and newline are fine)", word);
    }
  }
};

/** Every key of the top-level map; the Book when nothing was wrong. */
const readBookMap = (root: RawMap, file: string, issues: Issues): Book | undefined => {
  checkKeys(root, TOP_KEYS, "", issues);
  const name = readName(root.name, issues);
  const image = readImage(root.image, name, issues);
  const entrypoint = readEntrypoint(root.entrypoint, issues);
  const command = readBookCommand(root.command, entrypoint, issues);
  const ports = readPorts(root.port, issues);
  const { maps, hasStateDirMap } = readMaps(root.maps, issues);
  const home = readHome(root.home, maps, hasStateDirMap, issues);
  const env = readBookEnv(root.env, issues);
  const restart = readRestart(root.restart, issues);
  const healthcheck = readHealthcheck(root.healthcheck, issues);
  const network = readNetwork(root.network, issues);
  const hostname = readHostname(root.hostname, issues);
  const stopTimeoutMs = readDuration(root.stop_timeout, "stop_timeout", issues, true);
  const kube = readKube(root.kube, issues);
  if (stopTimeoutMs !== undefined && stopTimeoutMs % 1000 !== 0) expected(issues, "stop_timeout", "whole seconds (docker run --stop-timeout), such as 70s or 2m", root.stop_timeout);
  checkNoControls({ entrypoint: Array.isArray(entrypoint) ? entrypoint : [], command: command ?? [], env, healthcheck: typeof healthcheck === "object" ? healthcheck.test.slice(1) : [] }, issues);
  if (entrypoint === false && command?.length === 0) {
    issues.warnings.push("command: [] with the image's entrypoint runs the image's CMD (Docker cannot pass no arguments); leave command out to say so, or set entrypoint");
  }
  if (network === "host" && ports.length > 0) issues.warnings.push("port: ignored with network host (the container uses the host's ports directly)");
  if (issues.errors.length > 0 || name === undefined || image === undefined || entrypoint === undefined || home === undefined) return undefined;
  return {
    file, name, image, entrypoint, command, ports, maps, home, env, restart, healthcheck, network, hostname,
    ...(stopTimeoutMs !== undefined && { stopTimeoutS: stopTimeoutMs / 1000 }),
    ...(kube !== undefined && { kube }),
  };
};

/** Validate a parsed book (as parseYamlText gives it); `file` names the book in every message. */
export const readBook = (raw: unknown, file: string): BookResult => {
  const inFile = (message: string) => `${file}: ${message}`;
  if (!isMap(raw)) return { ok: false, errors: [inFile(`expected a map of book settings, got ${describeValue(raw)}`)] };
  const issues: Issues = { errors: [], warnings: [] };
  const book = readBookMap(raw, file, issues);
  if (book === undefined) return { ok: false, errors: issues.errors.map(inFile) };
  return { ok: true, book, warnings: issues.warnings.map(inFile) };
};

/** "ENOENT: no such file or directory, open '/x'" → "ENOENT: no such file or directory" (the message names the file). */
const describeReadError = (error: unknown): string => (error as Error).message.replace(/, \w+(?: '.*')?$/s, "");

/**
 * The book's text. A regular file only (a FIFO would block), at most 1 MiB,
 * and UTF-8: a byte that is not would become U+FFFD silently and name a path
 * that does not exist.
 */
const readBookText = (path: string): { text: string } | { error: string } => {
  const cannotRead = (why: string) => ({ error: `${path}: cannot read the book: ${why}` });
  let bytes: Buffer;
  try {
    bytes = readRegularFile(path, MAX_BOOK_BYTES + 1);
  } catch (error) {
    return cannotRead((error as NodeJS.ErrnoException).code === "EINVAL" ? "not a regular file" : describeReadError(error));
  }
  if (bytes.length > MAX_BOOK_BYTES) return cannotRead("larger than 1 MiB");
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch (error) {
    // The decoder throws only a TypeError for bytes that are not UTF-8.
    if (!(error instanceof TypeError)) throw error;
    return cannotRead("not valid UTF-8 text (save it as UTF-8)");
  }
};

/** Read, parse and validate a book file; every problem at once, or the Book. */
export const loadBook = async (path: string): Promise<BookResult> => {
  const read = readBookText(path);
  if ("error" in read) return { ok: false, errors: [read.error] };
  const parsed = await parseYamlText(read.text, path);
  if (!parsed.ok) return parsed;
  const result = readBook(parsed.value, path);
  // YAML warnings already carry file:line:col.
  return result.ok ? { ...result, warnings: [...parsed.warnings, ...result.warnings] } : result;
};

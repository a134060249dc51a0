// Reads a book (one service's YAML for `boxinit host`) into a Book: the file
// read, then one small reader per key. Every problem is collected and returned
// at once, each as `<file>: <path>: expected <what>, got <found>`.
import { posix } from "node:path";
import { readRegularFile } from "../control/atomic-write.ts";
import {
  checkKeys, describeValue, expected, keyPath, readAbsolutePath, readWritablePath, readBoolean, readChoice, readCommand, readCount,
  readDuration, readMap, type Issues, type RawMap,
} from "../config/schema.ts";
import { readEnv } from "../config/services.ts";
import { parseYamlText } from "../config/yaml-text.ts";
import type { BindMapping, Book, BookResult, Healthcheck, PortMapping } from "./book-types.ts";

const TOP_KEYS = ["name", "image", "entrypoint", "command", "port", "maps", "home", "env", "restart", "healthcheck", "network", "hostname", "stop_timeout"] as const;
const PORT_KEYS = ["src", "dst", "protocol"] as const;
const MAP_KEYS = ["src", "dst", "read_only"] as const;
const HEALTHCHECK_KEYS = ["test", "interval", "timeout", "start_period", "retries"] as const;

/** The container path of the state directory (SPEC: /docker), whose host side is the default home. */
const STATE_DIR = "/docker";

// At most 52 so that `<name>-production` is one DNS label (63), as a container
// name must be to serve as its network alias; lowercase because the name is
// also the default image repository.
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,51}$/;
const NAME_HINT = "a name of lowercase letters, digits, _ . - starting with a letter or digit (at most 52)";

// Docker's reference grammar (distribution/reference), without tag or digest:
// an optional registry host[:port]/, then lowercase path components.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPOSITORY_PATTERN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`,
);
const REPOSITORY_HINT = "a Docker repository such as boxinit/confluence or registry.example.com:5000/team/app";
const TAG_HINT = "a repository without a tag (boxinit manages :latest, :run and :previous)";

const ENTRYPOINT_HINT = "true, false, or a list of strings (the ENTRYPOINT argv)";
const PORT_HINT = "a port number 1-65535";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESTART_PATTERN = /^(?:no|always|unless-stopped|on-failure(?::\d{1,9})?)$/;
const HOSTNAME_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME_PATTERN = new RegExp(`^${HOSTNAME_LABEL}(?:\\.${HOSTNAME_LABEL})*$`);

// Far above any real book; bounds what a wrong path (/dev/zero) can cost.
const MAX_BOOK_BYTES = 1024 * 1024;

const isMap = (value: unknown): value is RawMap => typeof value === "object" && value !== null && !Array.isArray(value);

/** A path as Docker compares mount points: `/docker/`, `/docker` and `//docker` are one directory. */
const directoryKey = (path: string): string => posix.normalize(path).replace(/(.)\/$/, "$1");

/** A list; absent and null (written empty) both give [] without a problem. */
const readList = (value: unknown, path: string, issues: Issues, what: string): unknown[] => {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  expected(issues, path, what, value);
  return [];
};

/** `name:` (required): the container is `<name>-production`. */
const readName = (value: unknown, issues: Issues): string | undefined => {
  if (typeof value === "string" && NAME_PATTERN.test(value)) return value;
  return expected(issues, "name", NAME_HINT, value);
};

/** `image:`, or the name when absent: a repository, since boxinit owns the tags. */
const readImage = (value: unknown, name: string | undefined, issues: Issues): string | undefined => {
  if (value === undefined) {
    // The name pattern allows some names that are not repositories ("app.", "a..b").
    if (name === undefined || REPOSITORY_PATTERN.test(name)) return name;
    return expected(issues, "image", `${REPOSITORY_HINT} (the default, the name ${JSON.stringify(name)}, is not one)`, value);
  }
  if (typeof value !== "string") return expected(issues, "image", REPOSITORY_HINT, value);
  // Only the last component can hold a tag: in `localhost:5000/app` the colon is the registry's port.
  const lastComponent = value.slice(value.lastIndexOf("/") + 1);
  if (value.includes("@") || lastComponent.includes(":")) return expected(issues, "image", TAG_HINT, value);
  if (REPOSITORY_PATTERN.test(value)) return value;
  return expected(issues, "image", REPOSITORY_HINT, value);
};

/** `entrypoint:` true, false or an argv; no string form, which would hide a second `sh -c`. */
const readEntrypoint = (value: unknown, issues: Issues): boolean | string[] | undefined => {
  if (value === undefined) return false;
  if (value === "true" || value === "false") return value === "true";
  if (Array.isArray(value) && value.length > 0) return readCommand(value, "entrypoint", issues);
  return expected(issues, "entrypoint", ENTRYPOINT_HINT, value);
};

/** `command:` an argv (`[]`: no arguments) or a string for `sh -c`; entrypoint true makes it required. */
const readBookCommand = (value: unknown, entrypoint: Book["entrypoint"] | undefined, issues: Issues): string[] | undefined => {
  const command = Array.isArray(value) && value.length === 0 ? [] : readCommand(value, "command", issues);
  // A command that was written but is invalid is already reported.
  const isMissing = value === undefined || command?.length === 0;
  if (entrypoint === true && isMissing) {
    issues.errors.push(`command: expected the command that replaces the entrypoint (entrypoint is true), got ${value === undefined ? "nothing" : "an empty list"}`);
  }
  return command;
};

/** A port number as written: digits only, and no leading zero (YAML 1.1 tools read 010 as octal 8). */
const readPortNumber = (value: unknown, path: string, issues: Issues): number | undefined => {
  if (typeof value === "string" && /^[1-9]\d{0,4}$/.test(value) && Number(value) <= 65535) return Number(value);
  return expected(issues, path, PORT_HINT, value);
};

/** One `port:` entry, or undefined when any part of it is wrong. */
const readPortEntry = (entry: unknown, path: string, issues: Issues): PortMapping | undefined => {
  if (!isMap(entry)) return expected(issues, path, "a map with src and dst", entry);
  checkKeys(entry, PORT_KEYS, path, issues);
  const src = readPortNumber(entry.src, keyPath(path, "src"), issues);
  const dst = readPortNumber(entry.dst, keyPath(path, "dst"), issues);
  const protocol = entry.protocol === undefined ? "tcp" : readChoice(entry.protocol, ["tcp", "udp"] as const, keyPath(path, "protocol"), issues);
  if (src === undefined || dst === undefined || protocol === undefined) return undefined;
  return { src, dst, protocol };
};

/** `port:` the published ports; a host port (per protocol) can be published once. */
const readPorts = (value: unknown, issues: Issues): PortMapping[] => {
  const ports: PortMapping[] = [];
  const firstIndex = new Map<string, number>();
  for (const [index, entry] of readList(value, "port", issues, "a list of {src, dst} maps").entries()) {
    const path = `port[${index}]`;
    const port = readPortEntry(entry, path, issues);
    if (port === undefined) continue;
    const key = `${port.src}/${port.protocol}`;
    const earlier = firstIndex.get(key);
    if (earlier === undefined) {
      firstIndex.set(key, index);
      ports.push(port);
    } else {
      expected(issues, `${path}.src`, `a host port not already published by port[${earlier}]`, String(port.src));
    }
  }
  return ports;
};

/** A bind path: absolute, and without ":" (the Engine API's Binds are `src:dst[:ro]`). */
const readBindPath = (value: unknown, path: string, issues: Issues): string | undefined => {
  // null rather than undefined: src and dst are required, and readAbsolutePath reports null as "got nothing".
  const absolute = readAbsolutePath(value ?? null, path, issues);
  if (absolute?.includes(":")) return expected(issues, path, 'an absolute path without ":"', value);
  return absolute;
};

/** One `maps:` entry; src and dst apart, so that a map to /docker with a bad src still counts as one. */
const readBindEntry = (entry: unknown, path: string, issues: Issues): Partial<BindMapping> => {
  if (!isMap(entry)) return expected(issues, path, "a map with src and dst", entry) ?? {};
  checkKeys(entry, MAP_KEYS, path, issues);
  const src = readBindPath(entry.src, keyPath(path, "src"), issues);
  let dst = readBindPath(entry.dst, keyPath(path, "dst"), issues);
  if (dst !== undefined && directoryKey(dst) === "/") dst = expected(issues, keyPath(path, "dst"), 'an absolute path other than "/"', dst);
  const isReadOnly = entry.read_only === undefined ? false : readBoolean(entry.read_only, keyPath(path, "read_only"), issues);
  return { src, dst, isReadOnly };
};

/** `maps:` the bind mounts, and whether one targets the state directory (valid or not). */
const readMaps = (value: unknown, issues: Issues): { maps: BindMapping[]; hasStateDirMap: boolean } => {
  const maps: BindMapping[] = [];
  const firstIndex = new Map<string, number>();
  let hasStateDirMap = false;
  for (const [index, entry] of readList(value, "maps", issues, "a list of {src, dst} maps").entries()) {
    const path = `maps[${index}]`;
    const { src, dst, isReadOnly } = readBindEntry(entry, path, issues);
    if (dst === undefined) continue;
    hasStateDirMap ||= directoryKey(dst) === STATE_DIR;
    const earlier = firstIndex.get(directoryKey(dst));
    if (earlier !== undefined) {
      expected(issues, `${path}.dst`, `a container path not already mapped by maps[${earlier}]`, dst);
      continue;
    }
    firstIndex.set(directoryKey(dst), index);
    if (src !== undefined && isReadOnly !== undefined) maps.push({ src, dst, isReadOnly });
  }
  return { maps, hasStateDirMap };
};

/**
 * `home:` the host side of the state directory; by default the host directory
 * mapped to /docker. `home:` with no value is taken as absent, so that default applies.
 */
const readHome = (value: unknown, maps: readonly BindMapping[], hasStateDirMap: boolean, issues: Issues): string | undefined => {
  const mapped = maps.find((map) => directoryKey(map.dst) === STATE_DIR)?.src;
  if (value === undefined || value === null) {
    // A map to /docker whose src is wrong is reported there; "map one" would mislead.
    if (!hasStateDirMap) {
      issues.errors.push(`home: expected an absolute path (the host side of the state directory), got nothing; or map a host directory to ${STATE_DIR}`);
    }
    // The host tool creates files in home; under /proc a recursive mkdir never returns.
    return mapped === undefined ? undefined : readWritablePath(mapped, "home (from the map to /docker)", issues);
  }
  const home = readWritablePath(value, "home", issues);
  if (home !== undefined && mapped !== undefined && directoryKey(home) !== directoryKey(mapped)) {
    issues.warnings.push(`home: ${JSON.stringify(home)} is not the directory mapped to ${STATE_DIR} (${JSON.stringify(mapped)}); host status and backoff read ${home}`);
  }
  return home;
};

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

/** `network:` none, host, bridge or a user-defined network's name. */
const readNetwork = (value: unknown, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && /^\S+$/.test(value)) return value;
  return expected(issues, "network", "a Docker network name (none, host, bridge or your own)", value);
};

/** `hostname:` RFC 1123 labels. */
const readHostname = (value: unknown, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.length <= 253 && HOSTNAME_PATTERN.test(value)) return value;
  return expected(issues, "hostname", "a hostname of letters, digits and -, in labels of at most 63 joined by . (at most 253)", value);
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

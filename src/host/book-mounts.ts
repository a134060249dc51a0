// A book's keys for the container's file system: maps (bind mounts) and home,
// the host side of the state directory (by default the directory mapped to
// /docker).
import { posix } from "node:path";
import { checkKeys, expected, isMap, keyPath, readAbsolutePath, readBoolean, readList, readWritablePath, type Issues } from "../config/schema.ts";
import type { BindMapping } from "./book-types.ts";

const MAP_KEYS = ["src", "dst", "read_only"] as const;

/** The container path of the state directory (SPEC: /docker), whose host side is the default home. */
export const STATE_DIR = "/docker";

/** A path as Docker compares mount points: `/docker/`, `/docker` and `//docker` are one directory. */
export const directoryKey = (path: string): string => posix.normalize(path).replace(/(.)\/$/, "$1");

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
export const readMaps = (value: unknown, issues: Issues): { maps: BindMapping[]; hasStateDirMap: boolean } => {
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
export const readHome = (value: unknown, maps: readonly BindMapping[], hasStateDirMap: boolean, issues: Issues): string | undefined => {
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

// status.json as its two writers (PID 1 and job runs) read it before they
// change their part: the whole document or nothing. A file that cannot be used
// (too big to read whole, not JSON, not an object, unreadable) is never
// replaced in place: it is first renamed to status.json.bad-TIME, so nothing
// it held is lost, and the caller logs where it went and why.
import { lstatSync, renameSync, type Stats } from "node:fs";
import { join } from "node:path";
import { errnoCode, isMissing, readRegularFile, readRegularFileAt } from "./atomic-write.ts";
import { kindOf } from "./dir-checks.ts";
import type { DirHandle } from "./dir-handle.ts";
import { isoTime } from "../time/iso-time.ts";

export const STATUS_JSON_NAME = "status.json";

/**
 * The most of status.json any reader reads. Far above what the writers make
 * (at most MAX_JOB_RECORDS records of about 1 KiB); it only bounds what a
 * planted huge file can cost. A bigger file is kept aside, never cut.
 */
export const MAX_STATUS_JSON_BYTES = 16 * 1024 * 1024;

/** Why a document cannot be used, or the object it holds (pure). */
export const parseStatusDocument = (text: string): { ok: true; document: Record<string, unknown> } | { ok: false; reason: string } => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return { ok: false, reason: `not valid JSON (${error.message})` };
    throw error;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, reason: "not a JSON object" };
  const jobs = (parsed as Record<string, unknown>).jobs;
  if (jobs !== undefined && (typeof jobs !== "object" || jobs === null || Array.isArray(jobs))) {
    return { ok: false, reason: '"jobs" is not a JSON object' };
  }
  return { ok: true, document: parsed as Record<string, unknown> };
};

// Shortages of boxinit's own (or the disk's): the document is not at fault,
// so it is neither replaced nor set aside; the write fails and is retried.
const RETRY_LATER = new Set(["EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "EINTR", "EIO"]);

/**
 * The file operations the read needs, on names in the state directory: by
 * path (byPath), or relative to an open directory descriptor.
 */
export interface StatusDirOps {
  /** lstat(2) of a name: its kind and inode; undefined when there is none (a missing directory included). */
  entry(name: string): { kind: "file" | "directory" | "symlink" | "other"; ino: number } | undefined;
  /** At most maxBytes of a regular file; a symlink is refused (ELOOP), anything else not a file too (EINVAL). */
  read(name: string, maxBytes: number): Buffer;
  /** rename(2) within the directory. */
  rename(from: string, to: string): void;
}

/** StatusDirOps by path, for files directly in a directory whose own path is trusted. */
export const byPath = (dir: string): StatusDirOps => ({
  entry: (name) => {
    let stats: Stats | undefined;
    try {
      stats = lstatSync(join(dir, name), { throwIfNoEntry: false });
    } catch (error) {
      // ENOTDIR: the state directory itself is missing; the write reports it.
      if (isMissing(error)) return undefined;
      throw error;
    }
    if (stats === undefined) return undefined;
    const kind = stats.isFile() ? "file" : stats.isDirectory() ? "directory" : stats.isSymbolicLink() ? "symlink" : "other";
    return { kind, ino: stats.ino };
  },
  read: (name, maxBytes) => readRegularFile(join(dir, name), maxBytes, { noFollow: true }),
  rename: (from, to) => renameSync(join(dir, from), join(dir, to)),
});

/** StatusDirOps relative to an open directory (dir-handle.ts). */
export const byHandle = (dir: DirHandle): StatusDirOps => ({
  entry: (name) => {
    const stat = dir.stat(name);
    return stat === undefined ? undefined : { kind: kindOf(stat), ino: stat.ino };
  },
  read: (name, maxBytes) => readRegularFileAt(dir, name, maxBytes),
  rename: (from, to) => dir.rename(from, to),
});

type FileRead =
  | { kind: "none" }
  | { kind: "text"; text: string; ino: number }
  | { kind: "unusable"; reason: string; ino: number };

const readFile = (dir: StatusDirOps): FileRead => {
  const before = dir.entry(STATUS_JSON_NAME);
  // Nothing to read; and nothing to keep aside: a symlink planted at the name
  // is replaced by the write (its target is never read nor touched), a
  // directory in the way fails the write with EISDIR and its hint.
  if (before === undefined || before.kind === "symlink" || before.kind === "directory") return { kind: "none" };
  let bytes: Buffer;
  try {
    // One byte over the limit tells "exactly the limit" from "cut at the limit".
    bytes = dir.read(STATUS_JSON_NAME, MAX_STATUS_JSON_BYTES + 1);
  } catch (error) {
    const code = errnoCode(error);
    if (isMissing(error)) return { kind: "none" };
    if (code === undefined || RETRY_LATER.has(code)) throw error;
    return { kind: "unusable", reason: `cannot be read (${code})`, ino: before.ino };
  }
  if (bytes.length > MAX_STATUS_JSON_BYTES) {
    return { kind: "unusable", reason: `larger than ${MAX_STATUS_JSON_BYTES} bytes, the most that is read`, ino: before.ino };
  }
  return { kind: "text", text: bytes.toString("utf8"), ino: before.ino };
};

/** status.json.bad-<ISO time>, with -2, -3... when that name is taken. */
export const setAsideName = (nowMs: number, isTaken: (name: string) => boolean): string => {
  const base = `${STATUS_JSON_NAME}.bad-${isoTime(nowMs)}`;
  let name = base;
  for (let n = 2; isTaken(name); n++) name = `${base}-${n}`;
  return name;
};

export interface DocumentForUpdate {
  /** The document to change; undefined: start a fresh one (none there, or the old one kept aside). */
  document: Record<string, unknown> | undefined;
  /** The file that could not be used: its new name (in the state directory) and why. */
  keptAside?: { name: string; reason: string };
}

// A writer that lost the lock (it waits at most 100 ms-1 s) may find the file
// replaced between its read and its rename: it reads again.
const READ_ATTEMPTS = 3;

/**
 * Read status.json for a read-change-replace. Throws system errors (the
 * directory unreadable, a rename that failed, a shortage): the caller must
 * then not write, so a document that could not be kept aside is not replaced.
 */
export const readForUpdate = (dir: StatusDirOps, nowMs = Date.now()): DocumentForUpdate => {
  for (let attempt = 1; ; attempt++) {
    const read = readFile(dir);
    if (read.kind === "none") return { document: undefined };
    const parsed = read.kind === "text" ? parseStatusDocument(read.text) : { ok: false as const, reason: read.reason };
    if (parsed.ok) return { document: parsed.document };
    // Renamed only when it is still the file that was read: another writer's
    // fresh document must not be the one moved away.
    if (dir.entry(STATUS_JSON_NAME)?.ino !== read.ino) {
      if (attempt < READ_ATTEMPTS) continue;
      throw Object.assign(new Error("status.json keeps changing while it is read"), { code: "EAGAIN" });
    }
    const name = setAsideName(nowMs, (candidate) => dir.entry(candidate) !== undefined);
    dir.rename(STATUS_JSON_NAME, name);
    return { document: undefined, keptAside: { name, reason: parsed.reason } };
  }
};

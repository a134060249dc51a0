// The read side of status.json, shared by `boxinit status` and `boxinit
// health`: read it, check it is a boxinit status, and judge its age.
import { join } from "node:path";
import { errnoCode, isMissing, readRegularFile } from "./atomic-write.ts";
import { DEFAULT_HEARTBEAT_MS, STATUS_JSON_FILE } from "./status-file.ts";
import { MAX_STATUS_JSON_BYTES } from "./status-document.ts";

/** Older than three missed heartbeats: the writer is frozen or gone. */
export const DEFAULT_MAX_AGE_MS = 3 * DEFAULT_HEARTBEAT_MS;

/** status.json as read: fields checked only as far as the readers use them. */
export interface StatusDocument {
  state: string;
  since?: unknown;
  updatedAt?: unknown;
  pid?: unknown;
  version?: unknown;
  backoff?: unknown;
  exitCode?: unknown;
  heartbeatMs?: unknown;
  services?: unknown;
  jobs?: unknown;
}

/** The state shown for a status.json that only job runs have written (no PID 1 wrote there). */
export const JOBS_ONLY_STATE = "none";

/** States after which boxinit writes nothing more: no heartbeat is expected. */
export const FINAL_STATES: ReadonlySet<string> = new Set(["stopped", "backedoff", "failed"]);

/**
 * Whether the writer is done: a final state, except `backedoff` without an
 * exitCode, which is an idle backoff (backoff.on_engage: idle) whose PID 1 is
 * still up and still writing its heartbeat.
 */
export const hasEnded = (document: StatusDocument): boolean =>
  FINAL_STATES.has(document.state) && !(document.state === "backedoff" && document.exitCode === undefined);

/** Stale after three missed heartbeats of the writer's own interval (30 s when it does not say). */
export const maxAgeFor = (document: StatusDocument): number =>
  typeof document.heartbeatMs === "number" && document.heartbeatMs > 0 ? 3 * document.heartbeatMs : DEFAULT_MAX_AGE_MS;

/** A document whose writer should still be writing, but has not for longer than maxAgeFor (or whose time is in the future). */
export const isStale = (document: StatusDocument, nowMs: number, maxAgeMs = maxAgeFor(document)): boolean => {
  const age = ageMs(document.updatedAt, nowMs);
  const isUnproven = (age !== undefined && age > maxAgeMs) || aheadOfNowMs(document.updatedAt, nowMs) > 0;
  return isUnproven && !hasEnded(document);
};

export type StatusRead =
  | { ok: true; text: string; document: StatusDocument }
  | { ok: false; problem: "missing" | "unreadable" | "invalid"; message: string };

/** Checks status.json text (pure): a JSON object with a string `state`. */
export const parseStatus = (text: string): { ok: true; document: StatusDocument } | { ok: false; message: string } => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return { ok: false, message: `not valid JSON: ${error.message}` };
    throw error;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, message: "not a JSON object" };
  // `boxinit job` in a container of its own writes only `jobs`: a document, with no PID 1 state.
  if (!("state" in parsed) && "jobs" in parsed && typeof parsed.jobs === "object" && parsed.jobs !== null) {
    return { ok: true, document: { ...(parsed as object), state: JOBS_ONLY_STATE } };
  }
  if (!("state" in parsed) || typeof parsed.state !== "string") return { ok: false, message: 'not a boxinit status: no "state"' };
  return { ok: true, document: parsed as StatusDocument };
};

/** Reads and checks <stateDir>/status.json; never throws for file problems. */
export const readStatus = (stateDir: string): StatusRead => {
  const path = join(stateDir, STATUS_JSON_FILE);
  let text: string;
  try {
    // Not through a symlink planted at status.json: boxinit never writes one.
    // One byte over the limit: a bigger file is said to be one, never parsed cut short.
    const bytes = readRegularFile(path, MAX_STATUS_JSON_BYTES + 1, { noFollow: true });
    if (bytes.length > MAX_STATUS_JSON_BYTES) {
      return { ok: false, problem: "unreadable", message: `${path}: larger than ${MAX_STATUS_JSON_BYTES} bytes, the most that is read (the next boxinit write keeps it aside as status.json.bad-TIME)` };
    }
    text = bytes.toString("utf8");
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    if (isMissing(error)) {
      return { ok: false, problem: "missing", message: `no status in ${stateDir} (is boxinit running with --state-dir ${stateDir}?)` };
    }
    return { ok: false, problem: "unreadable", message: `${path}: cannot read: ${error instanceof Error ? error.message : code}` };
  }
  const parsed = parseStatus(text);
  if (!parsed.ok) return { ok: false, problem: "invalid", message: `${path}: ${parsed.message}` };
  return { ok: true, text, document: parsed.document };
};

// Writer and reader share the kernel's clock (container and host), so a time
// ahead of now by more than rounding means the clock was set back since the
// write, or the file did not come from boxinit: either way it proves nothing.
// Some seconds are allowed for a state directory shared with another machine.
const FUTURE_TOLERANCE_MS = 10_000;

/** How far an ISO time lies in the future beyond the tolerance (0 when it does not, or is no time). */
export const aheadOfNowMs = (iso: unknown, nowMs: number): number => {
  if (typeof iso !== "string") return 0;
  const then = Date.parse(iso);
  return !Number.isNaN(then) && then - nowMs > FUTURE_TOLERANCE_MS ? then - nowMs : 0;
};

/** Milliseconds since an ISO time (never negative), or undefined when it is not one. */
export const ageMs = (iso: unknown, nowMs: number): number | undefined => {
  if (typeof iso !== "string") return undefined;
  const then = Date.parse(iso);
  return Number.isNaN(then) ? undefined : Math.max(0, nowMs - then);
};

/** An age for people: 12s, 5m 3s, 2h 5m, 3d 4h. */
export const formatAge = (ms: number): string => {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
};

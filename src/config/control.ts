// The keys that say how the box is driven from outside: `backoff:` (which file
// to watch, how, and what engaging it does) and `probe:` (PID 1's own HTTP
// answers for kubelet probes). load.ts layers BOXINIT_* variables over them.
import { GLOBAL_DEFAULTS } from "./defaults.ts";
import { checkKeys, expected, readChoice, readDuration, readMap, readWritablePath, refusingNul, type Issues, type RawMap } from "./schema.ts";
import type { Config } from "./types.ts";

export const BACKOFF_KEYS = ["file", "on_engage", "watch", "poll_interval"] as const;
export const PROBE_KEYS = ["port"] as const;
const WATCH_MODES = ["inotify", "poll"] as const;
const ON_ENGAGE = ["exit", "idle"] as const;

/** A setting from the file, then its BOXINIT_* variable (an empty one counts as unset), each named in its own messages. */
export type Layered = <T>(
  fileValue: unknown, fileKey: string, envName: string,
  read: (value: unknown, path: string, issues: Issues) => T | undefined,
) => T | undefined;

// The backoff file is opened (and, by `boxinit backoff`, written): no NUL byte, not under /proc or /sys.
const readControlPath = refusingNul(readWritablePath);
const readPositiveDuration = (value: unknown, path: string, issues: Issues) => readDuration(value, path, issues, true);
const readWatchMode = (value: unknown, path: string, issues: Issues) => readChoice(value, WATCH_MODES, path, issues);
const readOnEngage = (value: unknown, path: string, issues: Issues) => readChoice(value, ON_ENGAGE, path, issues);

/** A TCP port, 1 to 65535. */
export const readPort = (value: unknown, path: string, issues: Issues): number | undefined => {
  if (value === undefined) return undefined;
  const port = typeof value === "string" && /^\d{1,5}$/.test(value) ? Number(value) : 0;
  if (port >= 1 && port <= 65_535) return port;
  return expected(issues, path, "a port number from 1 to 65535", value);
};

type BackoffSettings = Pick<Config, "backoffFile" | "backoffOnEngage" | "backoffWatch" | "backoffPollMs">;

/**
 * `backoff:`. The file defaults to STATE_DIR/backoff; in a Pod it lies in a
 * mounted ConfigMap directory, which is read-only and so cannot be the state directory.
 */
export const readBackoff = (root: RawMap, stateDir: string, layered: Layered, issues: Issues): BackoffSettings => {
  const backoff = readMap(root.backoff, "backoff", issues, "a map with file, on_engage, watch and poll_interval") ?? {};
  checkKeys(backoff, BACKOFF_KEYS, "backoff", issues);
  return {
    backoffFile: layered(backoff.file, "backoff.file", "BOXINIT_BACKOFF_FILE", readControlPath) ?? `${stateDir}/backoff`,
    backoffOnEngage: layered(backoff.on_engage, "backoff.on_engage", "BOXINIT_BACKOFF_ON_ENGAGE", readOnEngage) ?? GLOBAL_DEFAULTS.backoffOnEngage,
    backoffWatch: layered(backoff.watch, "backoff.watch", "BOXINIT_BACKOFF_WATCH", readWatchMode) ?? GLOBAL_DEFAULTS.backoffWatch,
    backoffPollMs: layered(backoff.poll_interval, "backoff.poll_interval", "BOXINIT_BACKOFF_POLL_INTERVAL", readPositiveDuration) ??
      GLOBAL_DEFAULTS.backoffPollMs,
  };
};

/** `probe:` — off (undefined) unless a port is given. */
export const readProbe = (root: RawMap, layered: Layered, issues: Issues): Pick<Config, "probePort"> => {
  const probe = readMap(root.probe, "probe", issues, "a map with port") ?? {};
  checkKeys(probe, PROBE_KEYS, "probe", issues);
  const probePort = layered(probe.port, "probe.port", "BOXINIT_PROBE_PORT", readPort);
  return probePort === undefined ? {} : { probePort };
};

// `boxinit health [--live | --ready] [--max-age D]`: for Docker HEALTHCHECK
// and Kubernetes exec probes. --ready (the default): exit 0 only when
// status.json says `running` with a fresh heartbeat; --live: exit 0 while PID 1
// manages the box with a fresh heartbeat (also degraded, booting, stopping,
// idle in backoff). 1 unhealthy (Docker's meaning), 2 usage. The verdict goes
// to stdout, which Docker keeps in `docker inspect`'s health log. Here: the
// arguments and usage text; the run is modes/side.ts.
import { parseDurationMs } from "../config/duration.ts";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";
import type { HealthMode } from "../control/health-verdict.ts";
import { DEFAULT_MAX_AGE_MS, formatAge } from "../control/status-read.ts";

export const HEALTH_EXIT = { healthy: 0, unhealthy: 1, usage: 2 } as const;

export const HEALTH_USAGE = `usage: boxinit health [--live | --ready] [--max-age DURATION]

  --ready  (the default) exit 0 only when the state is running: every critical
           service is up. For Docker's HEALTHCHECK and readiness probes.
  --live   exit 0 while boxinit manages the box: also while it boots, is
           degraded (a critical service is down, waiting for its restart),
           stops, or idles in backoff; 1 once it has ended. For liveness probes.

Both also demand that status.json was updated within DURATION
(default ${formatAge(DEFAULT_MAX_AGE_MS)}: three ${formatAge(GLOBAL_DEFAULTS.heartbeatMs)} heartbeats, or three of the heartbeatMs that
status.json names); otherwise they print why and exit 1. See docs/health.md.
`;

type Parsed = { ok: true; mode: HealthMode; maxAgeMs: number | undefined; showHelp: boolean } | { ok: false; error: string };

/** Parse `health` argv. */
export const parseHealthArgs = (args: readonly string[]): Parsed => {
  let maxAgeMs: number | undefined;
  let mode: HealthMode | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "-h" || arg === "--help") return { ok: true, mode: mode ?? "ready", maxAgeMs, showHelp: true };
    if (arg === "--live" || arg === "--ready") {
      const asked = arg === "--live" ? "live" : "ready";
      if (mode !== undefined && mode !== asked) return { ok: false, error: "--live and --ready ask different questions: give one" };
      mode = asked;
      continue;
    }
    let value: string | undefined;
    if (arg === "--max-age") value = args[++index];
    else if (arg.startsWith("--max-age=")) value = arg.slice("--max-age=".length);
    else return { ok: false, error: `unexpected argument ${JSON.stringify(arg)}` };
    const ms = value === undefined ? undefined : parseDurationMs(value);
    if (ms === undefined || ms <= 0) return { ok: false, error: `--max-age: expected a duration such as 90s or 5m, got ${value === undefined ? "nothing" : JSON.stringify(value)}` };
    maxAgeMs = ms;
  }
  return { ok: true, mode: mode ?? "ready", maxAgeMs, showHelp: false };
};

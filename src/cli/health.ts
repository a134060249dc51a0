// `boxinit health [--max-age D]`: for Docker HEALTHCHECK and Kubernetes exec
// probes. Exit 0 only when status.json says `running` and its heartbeat is
// fresh; 1 unhealthy (Docker's meaning), 2 usage. The verdict goes to stdout,
// which Docker keeps in `docker inspect`'s health log.
import { parseDurationMs } from "../config/duration.ts";
import { ageMs, DEFAULT_MAX_AGE_MS, formatAge, maxAgeFor, readStatus } from "../control/status-read.ts";
import { escapeControls } from "../control/backoff.ts";
import { processIo, type CommandIo } from "./status.ts";

export const HEALTH_EXIT = { healthy: 0, unhealthy: 1, usage: 2 } as const;

const USAGE = `usage: boxinit health [--max-age DURATION]

Exit 0 when boxinit is running and updated status.json within DURATION
(default ${formatAge(DEFAULT_MAX_AGE_MS)}: three 30s heartbeats, or three of the heartbeatMs
that status.json names), else print why and exit 1.
`;

type Parsed = { ok: true; maxAgeMs: number | undefined; showHelp: boolean } | { ok: false; error: string };

const parseHealthArgs = (args: readonly string[]): Parsed => {
  let maxAgeMs: number | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "-h" || arg === "--help") return { ok: true, maxAgeMs, showHelp: true };
    let value: string | undefined;
    if (arg === "--max-age") value = args[++index];
    else if (arg.startsWith("--max-age=")) value = arg.slice("--max-age=".length);
    else return { ok: false, error: `unexpected argument ${JSON.stringify(arg)}` };
    const ms = value === undefined ? undefined : parseDurationMs(value);
    if (ms === undefined || ms <= 0) return { ok: false, error: `--max-age: expected a duration such as 90s or 5m, got ${value === undefined ? "nothing" : JSON.stringify(value)}` };
    maxAgeMs = ms;
  }
  return { ok: true, maxAgeMs, showHelp: false };
};

/** `boxinit health` for the state directory; returns the exit code. */
export const healthCommand = (args: readonly string[], stateDir: string, io: CommandIo = processIo): number => {
  const parsed = parseHealthArgs(args);
  if (!parsed.ok) {
    io.stderr(`boxinit health: ${parsed.error}\n${USAGE}`);
    return HEALTH_EXIT.usage;
  }
  if (parsed.showHelp) {
    io.stdout(USAGE);
    return HEALTH_EXIT.healthy;
  }
  const unhealthy = (why: string): number => {
    io.stdout(`unhealthy: ${why}\n`);
    return HEALTH_EXIT.unhealthy;
  };
  const read = readStatus(stateDir);
  if (!read.ok) return unhealthy(read.message);
  const { state, updatedAt } = read.document;
  if (state !== "running") return unhealthy(`state is ${escapeControls(state)}, not running`);
  const age = ageMs(updatedAt, io.nowMs());
  if (age === undefined) return unhealthy("status.json has no valid updatedAt");
  const maxAgeMs = parsed.maxAgeMs ?? maxAgeFor(read.document);
  if (age > maxAgeMs) {
    return unhealthy(`status is stale: updated ${formatAge(age)} ago, more than ${formatAge(maxAgeMs)} (boxinit frozen or gone?)`);
  }
  io.stdout(`healthy: running, updated ${formatAge(age)} ago\n`);
  return HEALTH_EXIT.healthy;
};

// Whether a tini-style run (`boxinit -- CMD`, no Mini-VM setup) manages its
// state directory, and with which settings; plus the one small read that says
// "backoff engaged before start". Both run before the command is spawned, in
// the main bundle, so this file stays small: the writer and the watch are in
// command-box.ts, loaded once the command runs (docs/tini-style.md).
import { statSync } from "node:fs";
import { join } from "node:path";
import { GLOBAL_DEFAULTS } from "../config/defaults.ts";
import { readChoice, readDuration, readWritablePath, refusingNul, type Issues } from "../config/schema.ts";
import { BACKOFF_FILE, checkBackoffFile } from "./backoff.ts";
import type { BackoffWatchMode } from "./backoff-watch.ts";

/** Where and how the box of a tini-style run keeps its state. */
export interface CommandBoxPlan {
  stateDir: string;
  /** BOXINIT_BACKOFF_FILE, else <stateDir>/backoff. */
  backoffFile: string;
  heartbeatMs: number;
  backoffWatch: BackoffWatchMode;
  backoffPollMs: number;
}

export type CommandBoxPlanResult = { ok: true; plan: CommandBoxPlan | undefined } | { ok: false; errors: string[] };

const WATCH_MODES = ["inotify", "poll"] as const;

const readStatePath = refusingNul(readWritablePath);

// Idle backoff needs a run that can boot again (init scripts, services, the
// main command restarted): Mini-VM mode has it; a tini-style run is one
// command that ends the container when it ends.
const IDLE_REFUSED = "BOXINIT_BACKOFF_ON_ENGAGE: idle works in Mini-VM mode only (a config file, or --config FILE -- CMD): a tini-style run (boxinit -- CMD with no config) exits on backoff; unset it or set exit";

const readOnEngage = (value: string, issues: Issues): void => {
  const choice = readChoice(value, ["exit", "idle"] as const, "BOXINIT_BACKOFF_ON_ENGAGE", issues);
  if (choice === "idle") issues.errors.push(IDLE_REFUSED);
};

// The probe server answers about a box of services; a tini-style run has
// none to answer about, and a silently ignored port would be a Pod that is
// never ready with no reason given.
const PROBE_REFUSED = "BOXINIT_PROBE_PORT: PID 1's probe server works in Mini-VM mode only (a config file, or --config FILE -- CMD): a tini-style run (boxinit -- CMD with no config) answers no probes; unset it and use exec probes (boxinit health --live|--ready)";

/** Where a tini-style run's backoff file is: BOXINIT_BACKOFF_FILE when set (checked by planCommandBox), else <stateDir>/backoff. */
export const commandBoxBackoffFile = (stateDir: string, env: NodeJS.ProcessEnv): string =>
  env.BOXINIT_BACKOFF_FILE ? env.BOXINIT_BACKOFF_FILE : join(stateDir, BACKOFF_FILE);

// A symlink to a directory counts (statSync follows it), as it does for Mini-VM mode.
const isDirectoryOnDisk = (path: string): boolean => {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false; // not ours to look at (EACCES on a parent): no state directory
  }
};

/**
 * The plan, or undefined when the run is plain: only a state directory asked
 * for (--state-dir, BOXINIT_STATE_DIR) or the default /docker existing as a
 * directory makes it self-managing. The settings Mini-VM mode reads from
 * BOXINIT_* apply the same way, each checked before anything starts.
 */
export const planCommandBox = (
  stateDirFlag: string | undefined,
  env: NodeJS.ProcessEnv,
  isDirectory: (path: string) => boolean = isDirectoryOnDisk,
): CommandBoxPlanResult => {
  const issues: Issues = { errors: [], warnings: [] };
  // An empty variable counts as unset, as the config loader reads it.
  const fromEnv = env.BOXINIT_STATE_DIR ? readStatePath(env.BOXINIT_STATE_DIR, "BOXINIT_STATE_DIR", issues) : undefined;
  const explicit = stateDirFlag === undefined ? fromEnv : readStatePath(stateDirFlag, "--state-dir", issues);
  const heartbeatMs = env.BOXINIT_HEARTBEAT ? readDuration(env.BOXINIT_HEARTBEAT, "BOXINIT_HEARTBEAT", issues, true) : undefined;
  const backoffWatch = env.BOXINIT_BACKOFF_WATCH ? readChoice(env.BOXINIT_BACKOFF_WATCH, WATCH_MODES, "BOXINIT_BACKOFF_WATCH", issues) : undefined;
  const backoffPollMs = env.BOXINIT_BACKOFF_POLL_INTERVAL
    ? readDuration(env.BOXINIT_BACKOFF_POLL_INTERVAL, "BOXINIT_BACKOFF_POLL_INTERVAL", issues, true)
    : undefined;
  if (env.BOXINIT_BACKOFF_FILE) readStatePath(env.BOXINIT_BACKOFF_FILE, "BOXINIT_BACKOFF_FILE", issues);
  if (env.BOXINIT_BACKOFF_ON_ENGAGE) readOnEngage(env.BOXINIT_BACKOFF_ON_ENGAGE, issues);
  if (env.BOXINIT_PROBE_PORT) issues.errors.push(PROBE_REFUSED);
  if (issues.errors.length > 0) return { ok: false, errors: issues.errors };
  const hasExplicit = stateDirFlag !== undefined || Boolean(env.BOXINIT_STATE_DIR);
  const stateDir = hasExplicit ? explicit : isDirectory(GLOBAL_DEFAULTS.stateDir) ? GLOBAL_DEFAULTS.stateDir : undefined;
  if (stateDir === undefined) return { ok: true, plan: undefined };
  return {
    ok: true,
    plan: {
      stateDir,
      backoffFile: commandBoxBackoffFile(stateDir, env),
      heartbeatMs: heartbeatMs ?? GLOBAL_DEFAULTS.heartbeatMs,
      backoffWatch: backoffWatch ?? GLOBAL_DEFAULTS.backoffWatch,
      backoffPollMs: backoffPollMs ?? GLOBAL_DEFAULTS.backoffPollMs,
    },
  };
};

/**
 * Backoff engaged before start: one bounded, non-blocking read of the backoff
 * file (BOXINIT_BACKOFF_FILE, else <stateDir>/backoff). A file that cannot be
 * read says "not engaged" here; the watch started after the spawn reads it
 * again and warns.
 */
export const isBackoffEngagedAtStart = (stateDir: string, env: NodeJS.ProcessEnv = process.env): boolean =>
  checkBackoffFile(commandBoxBackoffFile(stateDir, env)).engaged;

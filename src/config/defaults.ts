// The values a config gets for every key left out, in one place so that
// `boxinit check`, the README and the loader cannot drift apart.

/** Where the config is looked for when neither --config nor BOXINIT_CONFIG names one. */
export const DEFAULT_CONFIG_PATH = "/etc/boxinit/boxinit.yaml";

/** Global defaults. grace is 9 s so the whole stop ends inside Docker's default 10 s stop timeout. */
export const GLOBAL_DEFAULTS = {
  stateDir: "/docker",
  graceMs: 9000,
  heartbeatMs: 30_000,
  initDir: "/etc/boxinit/init.d",
  finishDir: "/etc/boxinit/finish.d",
  backoffOnEngage: "exit",
  backoffWatch: "inotify",
  backoffPollMs: 1000,
} as const;

/** `log_files:` defaults (the key itself is off unless written). */
export const LOG_FILES_DEFAULTS = {
  dirInStateDir: "logs/services",
  maxSizeBytes: 10 * 1024 * 1024,
  keep: 5,
  timestamps: true,
} as const;

/** Per-service defaults (critical has none: it depends on how many services there are). */
export const SERVICE_DEFAULTS = {
  stopSignal: 15, // SIGTERM
  restart: "no",
  restartDelayMs: 1000,
  restartMaxDelayMs: 60_000,
  maxRestarts: 10,
  stableAfterMs: 10_000,
  pidfileTimeoutMs: 60_000,
} as const;

/** Warm-up defaults. */
export const WARMUP_DEFAULTS = {
  intervalMs: 1000,
  tryTimeoutMs: 5000,
  timeoutMs: 300_000,
  onTimeout: "fail",
  expect: "any",
} as const;

/** Where users and groups are looked up. */
export const DEFAULT_PASSWD_FILE = "/etc/passwd";
export const DEFAULT_GROUP_FILE = "/etc/group";

/** Per-job defaults and the retention of failure reports. */
export const JOB_DEFAULTS = {
  onFailureTimeoutMs: 60_000,
  captureBytes: 1024 * 1024,
  logsKeep: 100,
  logsMaxAgeMs: 30 * 86_400_000,
} as const;

// The validated configuration: what config/load.ts produces from the YAML file
// plus BOXINIT_* overrides, and everything after it consumes. Durations are in
// milliseconds, signals are numbers, users are resolved, services are in start order.

export type RestartPolicy = "no" | "on-failure" | "always";

/** A user resolved from /etc/passwd and /etc/group at load time. */
export interface UserSpec {
  name: string;
  uid: number;
  gid: number;
  /** Supplementary groups (from /etc/group), including gid. */
  groups: number[];
  home: string;
}

export type WarmupCheck = { kind: "http"; url: string; expect: "any" | "2xx" } | { kind: "command"; command: string[] };

export interface WarmupConfig {
  check: WarmupCheck;
  /** Pause between tries. */
  intervalMs: number;
  /** Bound of one try (HTTP request or command run). */
  tryTimeoutMs: number;
  /** Bound of the whole warm-up. */
  timeoutMs: number;
  onTimeout: "fail" | "continue";
}

export interface ServiceConfig {
  name: string;
  /** argv; a YAML string becomes ["/bin/sh", "-c", string]. */
  command: string[];
  user?: UserSpec;
  cwd?: string;
  env: Record<string, string>;
  /** Stop command (argv); stopSignal goes to the service's process group when there is none, or after it when the service still runs. */
  stop?: string[];
  stopSignal: number;
  restart: RestartPolicy;
  restartDelayMs: number;
  restartMaxDelayMs: number;
  /** Consecutive restarts after which the service is given up. */
  maxRestarts: number;
  /** A run at least this long resets the delay and the consecutive count. */
  stableAfterMs: number;
  after: string[];
  critical: boolean;
  pidfile?: string;
  /** One bound, from the start command's launch: it must exit 0 and the pidfile name a live pid within this. */
  pidfileTimeoutMs: number;
  warmup?: WarmupConfig;
  /** Whether its output also goes to log_files.dir/NAME.log (when log_files is set); `log_file: false` opts out. */
  logFile: boolean;
}

export interface JobConfig {
  name: string;
  command: string[];
  /** Cron expression (5 or 6 fields, croner); undefined: run only by `boxinit job NAME`. */
  schedule?: string;
  /** IANA time zone of the schedule; undefined: TZ, else the system's. */
  timezone?: string;
  timeoutMs?: number;
  user?: UserSpec;
  cwd?: string;
  env: Record<string, string>;
  onFailure?: string[];
  onFailureTimeoutMs: number;
  /** The most output kept for a failure report (head and tail). */
  captureBytes: number;
}

/** Which failure reports logs/ keeps: at most `keep`, none older than maxAgeMs. */
export interface JobLogsConfig {
  keep: number;
  maxAgeMs: number;
}

/** `log_files:` — per-service log files, rotated by size. */
export interface LogFilesConfig {
  /** Where NAME.log and NAME.log.1 … NAME.log.KEEP live (default STATE_DIR/logs/services). */
  dir: string;
  /** A file is rotated before a line would take it past this. */
  maxSizeBytes: number;
  /** Rotated files kept (NAME.log.1 is the newest). */
  keep: number;
  /** Each line starts with an ISO-8601 UTC time. */
  timestamps: boolean;
}

export interface Config {
  /** The file loaded, or undefined when none (the default path is optional). */
  source: string | undefined;
  stateDir: string;
  graceMs: number;
  heartbeatMs: number;
  initDir: string;
  finishDir: string;
  /** The backoff control file: STATE_DIR/backoff unless backoff.file names another (a mounted ConfigMap directory). */
  backoffFile: string;
  /** What engaging backoff does: exit (Docker: the container ends) or idle (a Pod: services stopped, PID 1 stays up, not ready). */
  backoffOnEngage: "exit" | "idle";
  backoffWatch: "inotify" | "poll";
  backoffPollMs: number;
  /** probe.port: PID 1 answers GET /livez and /readyz on it; absent: no server. */
  probePort?: number;
  /** log_files:; absent: services' output goes only to boxinit's stdout/stderr. */
  logFiles?: LogFilesConfig;
  /** Symlinks made before services start: link (the path created) -> target. */
  links: Array<{ link: string; target: string }>;
  /** In start order: every service comes after the ones in its `after:`. */
  services: ServiceConfig[];
  jobs: JobConfig[];
  jobLogs: JobLogsConfig;
}

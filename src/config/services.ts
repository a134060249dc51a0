// The schema of one entry of `services:` and of its `warmup:`. Users, the
// `critical` default and the start order need every service, so load.ts adds them.
import { SERVICE_DEFAULTS, WARMUP_DEFAULTS } from "./defaults.ts";
import {
  checkKeys, expected, hasNul, keyPath, readAge, readBoolean, readChoice, readCount, readDuration, readExecCommand,
  readExecPath, readMap, readNameList, readStopSignal, readText, refusingNul, WITHOUT_NUL, type Issues, type RawMap,
} from "./schema.ts";
import type { RestartPolicy, ServiceConfig, WarmupCheck, WarmupConfig } from "./types.ts";
import type { UserRequest } from "./users.ts";

export const SERVICE_KEYS = [
  "command", "user", "group", "cwd", "env", "stop", "stop_signal", "restart", "restart_delay",
  "restart_max_delay", "max_restarts", "stable_after", "after", "critical", "pidfile", "pidfile_timeout", "warmup", "log_file",
] as const;

export const WARMUP_KEYS = ["http", "command", "expect", "interval", "try_timeout", "timeout", "on_timeout"] as const;

const RESTART_POLICIES: readonly RestartPolicy[] = ["no", "on-failure", "always"];

/** Service names end up in file names, log prefixes and status.json keys. */
export const SERVICE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;

/** A service as its own entry describes it; `user` and `critical` are settled later. */
export interface ServiceDraft {
  service: Omit<ServiceConfig, "user" | "critical">;
  /** Path of the entry, for messages: `services.web`. */
  path: string;
  userRequest?: UserRequest;
  /** undefined when not written: the default depends on the number of services. */
  critical?: boolean;
}

/** `env:` values are strings; a list or map has no single value to export. */
export const readEnv = (value: unknown, path: string, issues: Issues): Record<string, string> => {
  const map = readMap(value, path, issues, "a map of variable names to values");
  const env: Array<[string, string]> = [];
  for (const [name, text] of Object.entries(map ?? {})) {
    const where = keyPath(path, name);
    if (name === "" || name.includes("=") || hasNul(name)) expected(issues, where, "a variable name without = or NUL", name);
    else if (text === null) env.push([name, ""]); // `VAR:` with no value: set and empty, as in a shell
    else if (typeof text !== "string") expected(issues, where, "a string", text);
    else if (hasNul(text)) expected(issues, where, WITHOUT_NUL, text);
    else env.push([name, text]);
  }
  // fromEntries defines own properties, so `__proto__: x` is an ordinary variable rather than a lost assignment.
  return Object.fromEntries(env);
};

/** `restart:` also takes `false` for "no", for configs written for YAML 1.1 tools where `no` is false. */
const readRestart = (value: unknown, path: string, issues: Issues): RestartPolicy | undefined =>
  readChoice(value === "false" ? "no" : value, RESTART_POLICIES, path, issues);

/** `http:` must be a plain http URL: boxinit does not carry a CA store to check certificates. */
const readWarmupUrl = (value: unknown, path: string, issues: Issues): string | undefined => {
  if (typeof value === "string" && URL.canParse(value) && new URL(value).protocol === "http:") return value;
  return expected(issues, path, "an http:// URL", value);
};

/** Exactly one of http: and command:; expect: belongs to http. */
const readWarmupCheck = (warmup: RawMap, path: string, issues: Issues): WarmupCheck | undefined => {
  const hasHttp = warmup.http !== undefined;
  const hasCommand = warmup.command !== undefined;
  if (hasHttp === hasCommand) {
    issues.errors.push(`${path}: expected http or command, got ${hasHttp ? "both" : "neither"}`);
    return undefined;
  }
  const expect = readChoice(warmup.expect, ["any", "2xx"] as const, keyPath(path, "expect"), issues);
  if (hasCommand) {
    if (warmup.expect !== undefined) issues.errors.push(`${keyPath(path, "expect")}: only with http, not with command`);
    const command = readExecCommand(warmup.command, keyPath(path, "command"), issues);
    return command && { kind: "command", command };
  }
  const url = readWarmupUrl(warmup.http, keyPath(path, "http"), issues);
  return url === undefined ? undefined : { kind: "http", url, expect: expect ?? WARMUP_DEFAULTS.expect };
};

/** `warmup:` — how boxinit knows the service is ready. */
export const readWarmup = (value: unknown, path: string, issues: Issues): WarmupConfig | undefined => {
  const warmup = readMap(value, path, issues, "a map with http or command");
  if (value === null) expected(issues, path, "a map with http or command", value);
  if (!warmup) return undefined;
  checkKeys(warmup, WARMUP_KEYS, path, issues);
  const check = readWarmupCheck(warmup, path, issues);
  const at = (key: string) => keyPath(path, key);
  const intervalMs = readDuration(warmup.interval, at("interval"), issues, true) ?? WARMUP_DEFAULTS.intervalMs;
  const tryTimeoutMs = readDuration(warmup.try_timeout, at("try_timeout"), issues, true) ?? WARMUP_DEFAULTS.tryTimeoutMs;
  const timeoutMs = readDuration(warmup.timeout, at("timeout"), issues, true) ?? WARMUP_DEFAULTS.timeoutMs;
  const onTimeout = readChoice(warmup.on_timeout, ["fail", "continue"] as const, at("on_timeout"), issues) ?? WARMUP_DEFAULTS.onTimeout;
  return check && { check, intervalMs, tryTimeoutMs, timeoutMs, onTimeout };
};

// A user or group name becomes the process's identity: no NUL byte may cut it.
const readName = (value: unknown, path: string, issues: Issues, what: string) =>
  refusingNul((text, at, found) => readText(text, at, found, what))(value, path, issues);

/** `user:` and `group:` as written; looked up later, against the passwd and group files. */
export const readUserRequest = (entry: RawMap, path: string, issues: Issues): UserRequest | undefined => {
  const user = readName(entry.user, keyPath(path, "user"), issues, "a user name or uid");
  const group = readName(entry.group, keyPath(path, "group"), issues, "a group name or gid");
  if (group !== undefined && entry.user === undefined) {
    // Without a user there is no passwd entry to take HOME and groups from.
    issues.errors.push(`${keyPath(path, "group")}: only together with user`);
  }
  if (user === undefined) return undefined;
  return group === undefined ? { user } : { user, group };
};

/** Retry timing; a cap below the first delay would make the "exponential" delay shrink. */
const readRestartTiming = (entry: RawMap, path: string, issues: Issues) => {
  const restartDelayMs = readDuration(entry.restart_delay, keyPath(path, "restart_delay"), issues) ?? SERVICE_DEFAULTS.restartDelayMs;
  const maxDelayPath = keyPath(path, "restart_max_delay");
  let restartMaxDelayMs = readDuration(entry.restart_max_delay, maxDelayPath, issues) ?? SERVICE_DEFAULTS.restartMaxDelayMs;
  if (restartMaxDelayMs < restartDelayMs) {
    if (entry.restart_max_delay === undefined) restartMaxDelayMs = restartDelayMs;
    else expected(issues, maxDelayPath, "at least restart_delay", entry.restart_max_delay);
  }
  return {
    restartDelayMs,
    restartMaxDelayMs,
    maxRestarts: readCount(entry.max_restarts, keyPath(path, "max_restarts"), issues) ?? SERVICE_DEFAULTS.maxRestarts,
    // Compared with how long a run lasted, never a timer: no timer limit.
    stableAfterMs: readAge(entry.stable_after, keyPath(path, "stable_after"), issues) ?? SERVICE_DEFAULTS.stableAfterMs,
  };
};

/** One entry of `services:`. */
export const readService = (name: string, value: unknown, issues: Issues): ServiceDraft | undefined => {
  const path = keyPath("services", name);
  if (!SERVICE_NAME.test(name)) {
    expected(issues, path, "a service name of letters, digits, _ . - (at most 63, starting with a letter or digit)", name);
  }
  const entry = readMap(value, path, issues, "a map of service settings");
  if (!entry) {
    if (value === null) expected(issues, path, "a map of service settings", null);
    return undefined;
  }
  checkKeys(entry, SERVICE_KEYS, path, issues);
  const at = (key: string) => keyPath(path, key);
  // Read in SERVICE_KEYS order, so that the messages come in the order the schema lists the keys.
  const command = readExecCommand(entry.command, at("command"), issues);
  if (entry.command === undefined) expected(issues, at("command"), "a command (a list of strings, or a string for sh -c)", undefined);
  const userRequest = readUserRequest(entry, path, issues);
  const cwd = readExecPath(entry.cwd, at("cwd"), issues);
  const env = readEnv(entry.env, at("env"), issues);
  const stop = readExecCommand(entry.stop, at("stop"), issues);
  const stopSignal = readStopSignal(entry.stop_signal, at("stop_signal"), issues) ?? SERVICE_DEFAULTS.stopSignal;
  const restart = readRestart(entry.restart, at("restart"), issues) ?? SERVICE_DEFAULTS.restart;
  const timing = readRestartTiming(entry, path, issues);
  const after = [...new Set(readNameList(entry.after, at("after"), issues) ?? [])];
  const critical = readBoolean(entry.critical, at("critical"), issues);
  const pidfile = readExecPath(entry.pidfile, at("pidfile"), issues);
  const pidfileTimeoutMs = readDuration(entry.pidfile_timeout, at("pidfile_timeout"), issues, true) ?? SERVICE_DEFAULTS.pidfileTimeoutMs;
  if (entry.pidfile === undefined && entry.pidfile_timeout !== undefined) issues.warnings.push(`${at("pidfile_timeout")}: ignored without pidfile`);
  const warmup = readWarmup(entry.warmup, at("warmup"), issues);
  const logFile = readBoolean(entry.log_file, at("log_file"), issues) ?? true;
  const service: ServiceDraft["service"] = {
    name, command: command ?? [], env, stopSignal, restart, ...timing, after, pidfileTimeoutMs, logFile,
    ...(cwd !== undefined && { cwd }),
    ...(stop !== undefined && { stop }),
    ...(pidfile !== undefined && { pidfile }),
    ...(warmup !== undefined && { warmup }),
  };
  return { service, path, ...(userRequest && { userRequest }), ...(critical !== undefined && { critical }) };
};

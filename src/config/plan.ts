// The start plan `boxinit check` prints: what a validated Config will do, in the
// order it will do it, so a config can be reviewed without starting anything.
import { DEFAULT_CONFIG_PATH } from "./defaults.ts";
import { formatDurationMs } from "./duration.ts";
import type { Config, JobConfig, ServiceConfig, UserSpec, WarmupConfig } from "./types.ts";
import { signalLabel } from "../pid1/signals.ts";

/** 300000 → 5m, 90000 → 1m30s; what is not whole seconds goes to formatDurationMs (250ms, 1.5s). */
export const formatPlanDuration = (ms: number): string => {
  if (ms < 60_000 || ms % 1000 !== 0) return formatDurationMs(ms);
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return `${hours ? `${hours}h` : ""}${minutes ? `${minutes}m` : ""}${seconds ? `${seconds}s` : ""}`;
};

/** An argv as a shell would need it typed: plain words bare, the rest single-quoted. */
export const formatArgv = (argv: readonly string[]): string =>
  argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(" ");

const formatUser = (user: UserSpec | undefined): string =>
  user === undefined
    ? "boxinit's own"
    : `${user.name} (uid ${user.uid}, gid ${user.gid}, groups ${user.groups.join(",")}, HOME ${user.home})`;

const formatWarmup = (warmup: WarmupConfig): string => {
  const { check } = warmup;
  const what =
    check.kind === "http"
      ? `GET ${check.url} until it answers${check.expect === "2xx" ? " 2xx" : ""}`
      : `${formatArgv(check.command)} until it exits 0`;
  const onTimeout = warmup.onTimeout === "fail" ? "then fail" : "then continue anyway";
  return `${what}, every ${formatPlanDuration(warmup.intervalMs)}, ${formatPlanDuration(warmup.tryTimeoutMs)} per try, ` +
    `${onTimeout} after ${formatPlanDuration(warmup.timeoutMs)}`;
};

const formatRestart = (service: ServiceConfig): string => {
  if (service.restart === "no") return "no";
  return `${service.restart}, after ${formatPlanDuration(service.restartDelayMs)} doubling up to ` +
    `${formatPlanDuration(service.restartMaxDelayMs)}, at most ${service.maxRestarts} restarts in a row ` +
    `(a run of ${formatPlanDuration(service.stableAfterMs)} resets the count)`;
};

// A stop command that returns while the service still runs is followed by stop_signal.
const formatStop = (service: ServiceConfig): string =>
  service.stop
    ? `${formatArgv(service.stop)}, then ${signalLabel(service.stopSignal)} to its process group if it still runs`
    : `${signalLabel(service.stopSignal)} to its process group`;

const formatBackoffWatch = (config: Config): string =>
  config.backoffWatch === "poll"
    ? `polled every ${formatPlanDuration(config.backoffPollMs)}`
    : `watched with inotify (poll interval ${formatPlanDuration(config.backoffPollMs)})`;

/** The lines of one service, indented under its number. */
const describeService = (service: ServiceConfig, index: number): string[] => {
  const lines = [
    `${index + 1}. ${service.name}`,
    `   command: ${formatArgv(service.command)}`,
    `   user: ${formatUser(service.user)}`,
  ];
  if (service.cwd) lines.push(`   cwd: ${service.cwd}`);
  const envNames = Object.keys(service.env);
  if (envNames.length > 0) lines.push(`   env: ${envNames.join(", ")}`);
  if (service.after.length > 0) lines.push(`   after: ${service.after.join(", ")}`);
  if (service.pidfile) lines.push(`   pidfile: ${service.pidfile} (waited for up to ${formatPlanDuration(service.pidfileTimeoutMs)})`);
  lines.push(`   warm-up: ${service.warmup ? formatWarmup(service.warmup) : "none"}`);
  lines.push(`   restart: ${formatRestart(service)}`);
  lines.push(`   critical: ${service.critical ? "yes (the container stops with it)" : "no"}`);
  lines.push(`   stop: ${formatStop(service)}`);
  return lines;
};

/** The lines of one job. */
const describeJob = (job: JobConfig): string[] => {
  const when = job.schedule === undefined
    ? "only when run as `boxinit job " + job.name + "`"
    : `schedule ${JSON.stringify(job.schedule)} (${job.timezone ?? "TZ, else the system's time zone"}), skipped while backoff is engaged or the box is not running`;
  const lines = [`- ${job.name}: ${when}`, `    command: ${formatArgv(job.command)}`, `    user: ${formatUser(job.user)}`];
  if (job.cwd) lines.push(`    cwd: ${job.cwd}`);
  lines.push(`    timeout: ${job.timeoutMs === undefined ? "none" : `${formatPlanDuration(job.timeoutMs)}, then SIGTERM (exit 124)`}`);
  if (job.onFailure) lines.push(`    on failure: ${formatArgv(job.onFailure)} (at most ${formatPlanDuration(job.onFailureTimeoutMs)})`);
  return lines;
};

/** The start plan of a validated config, as `boxinit check` prints it. */
export const describePlan = (config: Config): string => {
  const lines = [
    `config: ${config.source ?? `none (${DEFAULT_CONFIG_PATH} not found: defaults)`}`,
    `state dir: ${config.stateDir}`,
    `grace: ${formatPlanDuration(config.graceMs)}`,
    `heartbeat: ${formatPlanDuration(config.heartbeatMs)}`,
    `backoff: ${config.backoffFile}, ${formatBackoffWatch(config)}${config.backoffOnEngage === "idle" ? "; when engaged the services stop and PID 1 stays up, not ready" : ""}`,
    `init scripts: ${config.initDir}`,
    `finish scripts: ${config.finishDir}`,
  ];
  if (config.probePort !== undefined) lines.push(`probes: GET /livez and /readyz on port ${config.probePort}`);
  if (config.logFiles) {
    const { dir, maxSizeBytes, keep, timestamps } = config.logFiles;
    lines.push(`log files: ${dir}/NAME.log, rotated at ${maxSizeBytes} bytes, ${keep} old kept, ${timestamps ? "with" : "without"} timestamps`);
  }
  if (config.links.length === 0) lines.push("links: none");
  else lines.push("links:", ...config.links.map(({ link, target }) => `  ${link} -> ${target}`));
  if (config.services.length === 0) lines.push("services: none");
  else lines.push("services, in start order:", ...config.services.flatMap((service, index) => describeService(service, index).map((line) => `  ${line}`)));
  if (config.jobs.length > 0) {
    lines.push("jobs:", ...config.jobs.flatMap((job) => describeJob(job).map((line) => `  ${line}`)));
    lines.push(`failure reports: ${config.stateDir}/logs, the newest ${config.jobLogs.keep} kept, none older than ${formatPlanDuration(config.jobLogs.maxAgeMs)}`);
  }
  const stopOrder = config.services.map((service) => service.name).reverse();
  lines.push(`shutdown: ${stopOrder.length > 0 ? `${stopOrder.join(", ")}, then ` : ""}finish scripts, all within ${formatPlanDuration(config.graceMs)}`);
  return `${lines.join("\n")}\n`;
};

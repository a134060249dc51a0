// Loads the Mini-VM config: finds the file, parses it strictly, applies BOXINIT_*
// variables and command-line overrides, resolves users and the start order.
// Every problem is collected and returned at once; nothing is started here.
import { readFileSync } from "node:fs";
import { readRegularFile } from "../control/atomic-write.ts";
import {
  DEFAULT_CONFIG_PATH, DEFAULT_GROUP_FILE, DEFAULT_PASSWD_FILE, GLOBAL_DEFAULTS,
} from "./defaults.ts";
import { startOrder } from "./order.ts";
import {
  checkKeys, expected, keyPath, readDuration, readExecPath, readMap, readWritablePath, refusingNul, type Issues, type RawMap,
} from "./schema.ts";
import { readService, type ServiceDraft } from "./services.ts";
import { readBackoff, readProbe, type Layered } from "./control.ts";
import { readLogFiles } from "./log-files.ts";
import { checkSchedules, readJob, readJobLogs, type CronFactory } from "./jobs.ts";
import type { Config, JobConfig, ServiceConfig, UserSpec } from "./types.ts";
import type { UserRequest } from "./users.ts";
import { loadLibrary } from "../lazy/loader.ts";
import { parseGroup, parsePasswd, resolveUser, type UserTables } from "./users.ts";
import { parseYamlText } from "./yaml-text.ts";

export interface LoadOptions {
  /** --config */
  path?: string;
  /** Default: DEFAULT_CONFIG_PATH. Tests point it into a temp dir, away from the host's /etc. */
  defaultPath?: string;
  env: NodeJS.ProcessEnv;
  /** --state-dir and --grace: they win over BOXINIT_* and the file. */
  overrides?: { stateDir?: string; graceMs?: number };
  passwdFile?: string;
  groupFile?: string;
  /** Default: process.getuid() === 0. */
  isRoot?: boolean;
  /** Default: process.getuid(). */
  ownUid?: number;
  /** Default: process.getgid(). */
  ownGid?: number;
  /**
   * "jobs": `boxinit job` reads the config only for its job; the services'
   * users are not resolved (a run as another uid must not fail on a
   * service's `user:` it never starts). Default "all".
   */
  resolveUsersOf?: "all" | "jobs";
}

export type LoadResult =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; errors: string[]; source?: string | undefined };

const TOP_KEYS = [
  "state_dir", "grace", "heartbeat", "init_dir", "finish_dir", "backoff", "probe", "links", "services", "jobs", "job_logs", "log_files",
] as const;

/** Which file to read: --config, else BOXINIT_CONFIG, else the default, which alone may be missing. */
export const resolveConfigPath = (
  path: string | undefined, env: NodeJS.ProcessEnv, defaultPath = DEFAULT_CONFIG_PATH,
): { path: string; isExplicit: boolean } => {
  const explicit = path || env.BOXINIT_CONFIG;
  return explicit ? { path: explicit, isExplicit: true } : { path: defaultPath, isExplicit: false };
};

/** "ENOENT: no such file or directory, open '/x'" → "ENOENT: no such file or directory" (the caller names the file). */
const describeReadError = (error: unknown): string => (error as Error).message.replace(/, \w+(?: '.*')?$/s, "");

// Far above any real config; bounds what a wrong path (/dev/zero) can cost PID 1.
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The file's text; undefined when the default path does not exist (no config
 * is a valid setup). A regular file only (a FIFO would block PID 1 for ever),
 * at most 1 MiB, and UTF-8: a byte that is not would become U+FFFD silently
 * and name a file that does not exist.
 */
const readConfigText = (path: string, isExplicit: boolean): { text: string | undefined } | { error: string } => {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(path, MAX_CONFIG_BYTES + 1);
  } catch (error) {
    if (!isExplicit && (error as NodeJS.ErrnoException).code === "ENOENT") return { text: undefined };
    const why = (error as NodeJS.ErrnoException).code === "EINVAL" ? "not a regular file" : describeReadError(error);
    return { error: `${path}: cannot read the config file: ${why}` };
  }
  if (bytes.length > MAX_CONFIG_BYTES) return { error: `${path}: the config file is larger than 1 MiB` };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { error: `${path}: not valid UTF-8 text (save the config as UTF-8)` };
  }
};

/** A setting from the file, then its BOXINIT_* variable, each validated and named in its own messages. */
const layered = <T>(
  fileValue: unknown, fileKey: string, envName: string, env: NodeJS.ProcessEnv, issues: Issues,
  read: (value: unknown, path: string, issues: Issues) => T | undefined,
): T | undefined => {
  const fromFile = read(fileValue, fileKey, issues);
  const envValue = env[envName];
  // An empty variable counts as unset, as `-e BOXINIT_GRACE=` in a compose file usually means "no override".
  const fromEnv = envValue ? read(envValue, envName, issues) : undefined;
  return fromEnv ?? fromFile;
};

// The state directory and link paths are opened and created: no NUL byte.
const readStatePath = refusingNul(readWritablePath);
const readPositiveDuration = (value: unknown, path: string, issues: Issues) => readDuration(value, path, issues, true);

/** state_dir, grace, heartbeat, the script dirs, backoff and probe, with their overrides. */
const readGlobals = (root: RawMap, options: LoadOptions, issues: Issues): Omit<Config, "source" | "links" | "services" | "jobs" | "jobLogs" | "logFiles"> => {
  const { env, overrides = {} } = options;
  const stateDirFlag = overrides.stateDir === undefined ? undefined : readStatePath(overrides.stateDir, "--state-dir", issues);
  const stateDir = stateDirFlag ?? layered(root.state_dir, "state_dir", "BOXINIT_STATE_DIR", env, issues, readStatePath) ?? GLOBAL_DEFAULTS.stateDir;
  const fromEnv: Layered = (fileValue, fileKey, envName, read) => layered(fileValue, fileKey, envName, env, issues, read);
  return {
    stateDir,
    graceMs: overrides.graceMs ?? layered(root.grace, "grace", "BOXINIT_GRACE", env, issues, readDuration) ?? GLOBAL_DEFAULTS.graceMs,
    heartbeatMs: layered(root.heartbeat, "heartbeat", "BOXINIT_HEARTBEAT", env, issues, readPositiveDuration) ?? GLOBAL_DEFAULTS.heartbeatMs,
    initDir: layered(root.init_dir, "init_dir", "BOXINIT_INIT_DIR", env, issues, readExecPath) ?? GLOBAL_DEFAULTS.initDir,
    finishDir: layered(root.finish_dir, "finish_dir", "BOXINIT_FINISH_DIR", env, issues, readExecPath) ?? GLOBAL_DEFAULTS.finishDir,
    ...readBackoff(root, stateDir, fromEnv, issues),
    ...readProbe(root, fromEnv, issues),
  };
};

/** `links:` — LINK: TARGET, both absolute, in file order. */
const readLinks = (value: unknown, issues: Issues): Config["links"] => {
  const links: Config["links"] = [];
  for (const [link, target] of Object.entries(readMap(value, "links", issues, "a map of link paths to targets") ?? {})) {
    const path = keyPath("links", link);
    if (!link.startsWith("/")) expected(issues, path, "an absolute link path", link);
    else if (readStatePath(link, path, issues) === undefined) continue;
    const checkedTarget = readExecPath(target, path, issues);
    if (link.startsWith("/") && checkedTarget !== undefined) links.push({ link, target: checkedTarget });
  }
  return links;
};

/** A passwd or group file as text; a read failure is kept to explain a failed lookup. */
const readTableFile = (file: string): { text: string; problem?: string } => {
  try {
    return { text: readFileSync(file, "utf8") };
  } catch (error) {
    return { text: "", problem: describeReadError(error) };
  }
};

/** The user tables, read only when some service names a user: images without /etc/passwd exist. */
const loadUserTables = (options: LoadOptions): UserTables & { problems: Map<string, string> } => {
  const passwdFile = options.passwdFile ?? DEFAULT_PASSWD_FILE;
  const groupFile = options.groupFile ?? DEFAULT_GROUP_FILE;
  const passwd = readTableFile(passwdFile);
  const groups = readTableFile(groupFile);
  const problems = new Map<string, string>();
  if (passwd.problem) problems.set(passwdFile, passwd.problem);
  if (groups.problem) problems.set(groupFile, groups.problem);
  return { passwd: parsePasswd(passwd.text), groups: parseGroup(groups.text), passwdFile, groupFile, problems };
};

/** Who asks for a user: a service or a job, its path for messages, and what it asked. */
interface UserAsker {
  path: string;
  userRequest?: UserRequest;
}

/** Resolve every `user:` (by the asker's path); switching users needs root, and saying so now beats an EPERM at spawn. */
const resolveUsers = (askers: readonly UserAsker[], options: LoadOptions, issues: Issues): Map<string, UserSpec> => {
  const users = new Map<string, UserSpec>();
  if (!askers.some((asker) => asker.userRequest)) return users;
  const tables = loadUserTables(options);
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  const ownUid = options.ownUid ?? process.getuid?.() ?? 0;
  const ownGid = options.ownGid ?? process.getgid?.() ?? 0;
  for (const { path, userRequest } of askers) {
    if (!userRequest) continue;
    const lookup = resolveUser(userRequest, tables);
    if (!lookup.ok) {
      const file = lookup.key === "user" ? tables.passwdFile : tables.groupFile;
      const problem = tables.problems.get(file);
      issues.errors.push(`${keyPath(path, lookup.key)}: ${lookup.message}${problem ? ` (cannot read it: ${problem})` : ""}`);
      continue;
    }
    if (!isRoot && lookup.user.uid !== ownUid) {
      issues.errors.push(`${keyPath(path, "user")}: switching to user ${JSON.stringify(userRequest.user)} needs root (boxinit runs as uid ${ownUid})`);
    } else if (!isRoot && userRequest.group !== undefined && lookup.user.gid !== ownGid) {
      issues.errors.push(`${keyPath(path, "group")}: switching to group ${JSON.stringify(userRequest.group)} needs root (boxinit runs as gid ${ownGid})`);
    }
    users.set(path, lookup.user);
  }
  return users;
};

/** Check `after:` names and cycles; the drafts in start order. */
const orderServices = (drafts: ServiceDraft[], issues: Issues): ServiceDraft[] => {
  const byName = new Map(drafts.map((draft) => [draft.service.name, draft]));
  for (const { service, path } of drafts) {
    for (const name of service.after) {
      if (!byName.has(name)) issues.errors.push(`${keyPath(path, "after")}: no such service ${JSON.stringify(name)}`);
    }
  }
  const items = drafts.map(({ service }) => ({ name: service.name, after: service.after.filter((name) => byName.has(name)) }));
  const { order, cycles } = startOrder(items);
  for (const cycle of cycles) issues.errors.push(`services: dependency cycle: ${cycle.join(" -> ")}`);
  return order.map((name) => byName.get(name)!);
};

/** `services:` → ServiceConfig in start order. */
const readServices = (value: unknown, options: LoadOptions, issues: Issues): ServiceConfig[] => {
  const entries = Object.entries(readMap(value, "services", issues, "a map of service names to settings") ?? {});
  const drafts = entries.flatMap(([name, entry]) => readService(name, entry, issues) ?? []);
  const users = options.resolveUsersOf === "jobs" ? new Map<string, UserSpec>() : resolveUsers(drafts, options, issues);
  // The only service is the container's reason to exist: when it ends for good, so does the
  // container (as with a plain CMD). With several, none is unless marked, so a side-car
  // such as a log shipper cannot take the app down.
  const isOnlyService = entries.length === 1;
  return orderServices(drafts, issues).map(({ service, path, critical }) => {
    const user = users.get(path);
    return { ...service, ...(user && { user }), critical: critical ?? isOnlyService };
  });
};

/** `jobs:` → JobConfig in file order. */
const readJobs = (value: unknown, options: LoadOptions, issues: Issues): JobConfig[] => {
  const entries = Object.entries(readMap(value, "jobs", issues, "a map of job names to settings") ?? {});
  const drafts = entries.flatMap(([name, entry]) => readJob(name, entry, issues) ?? []);
  const users = resolveUsers(drafts, options, issues);
  return drafts.map(({ job, path }) => {
    const user = users.get(path);
    return { ...job, ...(user && { user }) };
  });
};

/** The whole config from an already parsed document (null: an empty file). */
const readConfig = (document: unknown, source: string | undefined, options: LoadOptions, issues: Issues): Config => {
  const root = readMap(document, source ?? "config", issues, "a map of settings") ?? {};
  checkKeys(root, TOP_KEYS, "", issues);
  const globals = readGlobals(root, options, issues);
  const logFiles = readLogFiles(root.log_files, globals.stateDir, issues);
  return {
    source,
    ...globals,
    ...(logFiles && { logFiles }),
    links: readLinks(root.links, issues),
    services: readServices(root.services, options, issues),
    jobs: readJobs(root.jobs, options, issues),
    jobLogs: readJobLogs(root.job_logs, issues),
  };
};

/** Find, parse and validate the config; every problem at once, or the Config. */
export const loadConfig = async (options: LoadOptions): Promise<LoadResult> => {
  const { path, isExplicit } = resolveConfigPath(options.path, options.env, options.defaultPath);
  const read = readConfigText(path, isExplicit);
  if ("error" in read) return { ok: false, errors: [read.error], source: path };
  const source = read.text === undefined ? undefined : path;
  const parsed = read.text === undefined ? { ok: true as const, value: null, warnings: [] } : await parseYamlText(read.text, path);
  if (!parsed.ok) return { ok: false, errors: parsed.errors, source };
  const issues: Issues = { errors: [], warnings: [...parsed.warnings] };
  const config = readConfig(parsed.value, source, options, issues);
  // croner is loaded only when some job has a schedule to check.
  if (config.jobs.some((job) => job.schedule !== undefined)) {
    const { Cron } = await loadLibrary("croner");
    checkSchedules(config.jobs, Cron as unknown as CronFactory, issues);
  }
  if (issues.errors.length > 0) return { ok: false, errors: issues.errors, source };
  return { ok: true, config, warnings: issues.warnings };
};

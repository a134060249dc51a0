// The schema of `jobs:` (batch jobs, scheduled or run by `boxinit job NAME`)
// and of `job_logs:` (retention of failure reports). Cron expressions are
// checked by croner at load (checkSchedules), so a typo is a config error, not
// a job that silently never runs.
import { JOB_DEFAULTS } from "./defaults.ts";
import { abbreviateName, jobNameProblem, MAX_JOB_NAME_BYTES } from "../jobs/report-name.ts";
import {
  checkKeys, expected, keyPath, readAge, readCount, readDuration, readExecCommand, readExecPath, readMap, readText, type Issues,
} from "./schema.ts";
import { readEnv, readUserRequest, SERVICE_NAME } from "./services.ts";
import type { JobConfig, JobLogsConfig } from "./types.ts";
import type { UserRequest } from "./users.ts";

export const JOB_KEYS = [
  "command", "schedule", "timezone", "timeout", "user", "group", "cwd", "env", "on_failure", "on_failure_timeout", "capture_bytes",
] as const;

export const JOB_LOGS_KEYS = ["keep", "max_age"] as const;

/** A job as its entry describes it; the user is resolved by load.ts. */
export interface JobDraft {
  job: Omit<JobConfig, "user">;
  path: string;
  userRequest?: UserRequest;
}

// Below this a report has no room for the lines that say what went wrong.
const MIN_CAPTURE_BYTES = 1024;

/** One entry of `jobs:`. */
export const readJob = (name: string, value: unknown, issues: Issues): JobDraft | undefined => {
  const nameProblem = jobNameProblem(name);
  // A 10,000-character name is not repeated in every message about its entry.
  const path = keyPath("jobs", nameProblem === undefined ? name : abbreviateName(name));
  if (nameProblem !== undefined) issues.errors.push(`${path}: ${nameProblem}`);
  else if (!SERVICE_NAME.test(name)) expected(issues, path, `a job name of letters, digits, _ . - (at most ${MAX_JOB_NAME_BYTES}, starting with a letter or digit)`, name);
  const entry = readMap(value, path, issues, "a map of job settings");
  if (!entry) {
    if (value === null) expected(issues, path, "a map of job settings", null);
    return undefined;
  }
  checkKeys(entry, JOB_KEYS, path, issues);
  const at = (key: string) => keyPath(path, key);
  const command = readExecCommand(entry.command, at("command"), issues);
  if (entry.command === undefined) expected(issues, at("command"), "a command (a list of strings, or a string for sh -c)", undefined);
  const schedule = readText(entry.schedule, at("schedule"), issues, "a cron expression");
  const timezone = readText(entry.timezone, at("timezone"), issues, "a time zone such as Europe/Berlin");
  if (entry.timezone !== undefined && entry.schedule === undefined) issues.warnings.push(`${at("timezone")}: ignored without schedule`);
  const timeoutMs = readDuration(entry.timeout, at("timeout"), issues, true);
  const userRequest = readUserRequest(entry, path, issues);
  const cwd = readExecPath(entry.cwd, at("cwd"), issues);
  const env = readEnv(entry.env, at("env"), issues);
  const onFailure = readExecCommand(entry.on_failure, at("on_failure"), issues);
  const onFailureTimeoutMs = readDuration(entry.on_failure_timeout, at("on_failure_timeout"), issues, true) ?? JOB_DEFAULTS.onFailureTimeoutMs;
  let captureBytes = readCount(entry.capture_bytes, at("capture_bytes"), issues) ?? JOB_DEFAULTS.captureBytes;
  if (captureBytes < MIN_CAPTURE_BYTES) {
    if (entry.capture_bytes !== undefined) expected(issues, at("capture_bytes"), `at least ${MIN_CAPTURE_BYTES}`, entry.capture_bytes);
    captureBytes = MIN_CAPTURE_BYTES;
  }
  const job: JobDraft["job"] = {
    name, command: command ?? [], env, onFailureTimeoutMs, captureBytes,
    ...(schedule !== undefined && { schedule: schedule.trim() }),
    ...(timezone !== undefined && { timezone }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(cwd !== undefined && { cwd }),
    ...(onFailure !== undefined && { onFailure }),
  };
  return { job, path, ...(userRequest && { userRequest }) };
};

/** `job_logs:` — retention of failure reports in <state_dir>/logs. */
export const readJobLogs = (value: unknown, issues: Issues): JobLogsConfig => {
  const map = readMap(value, "job_logs", issues, "a map with keep and max_age") ?? {};
  checkKeys(map, JOB_LOGS_KEYS, "job_logs", issues);
  let keep = readCount(map.keep, "job_logs.keep", issues) ?? JOB_DEFAULTS.logsKeep;
  if (keep < 1) {
    expected(issues, "job_logs.keep", "at least 1 (the newest report is always kept)", map.keep);
    keep = 1;
  }
  // Compared with the reports' ages, never a timer: 30d (the default) and more are fine.
  const maxAgeMs = readAge(map.max_age, "job_logs.max_age", issues, true) ?? JOB_DEFAULTS.logsMaxAgeMs;
  return { keep, maxAgeMs };
};

/** What croner needs: `new Cron(expression, options)` that throws on a bad one. */
export type CronFactory = new (pattern: string, options: { paused: boolean; timezone?: string }) => { nextRun(): Date | null; stop(): void };

/** Check every schedule (5 or 6 fields, valid for croner, a known time zone); errors name the job. */
export const checkSchedules = (jobs: readonly JobConfig[], Cron: CronFactory, issues: Issues): void => {
  for (const job of jobs) {
    if (job.schedule === undefined) continue;
    const path = keyPath(keyPath("jobs", job.name), "schedule");
    const fields = job.schedule.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      expected(issues, path, "a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first)", job.schedule);
      continue;
    }
    try {
      const next = new Cron(job.schedule, { paused: true, ...(job.timezone !== undefined && { timezone: job.timezone }) }).nextRun();
      // Valid fields that never meet (31 February): the job would silently never run.
      if (next === null) expected(issues, path, "a schedule that fires (this one matches no date)", job.schedule);
    } catch (error) {
      const message = (error as Error).message.split(". ")[0]!.replace(/^Cron\w*: /, "");
      const where = /timezone/i.test(message) ? keyPath(keyPath("jobs", job.name), "timezone") : path;
      issues.errors.push(`${where}: ${message}`);
    }
  }
};

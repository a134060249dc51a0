// `jobs:` and `job_logs:` through loadConfig (readJob, readJobLogs,
// checkSchedules with the real croner): what loads, and the exact message of
// each problem, all at once.
import t from "tap";
import { configOf, errorsOf, textLoader } from "../helpers/config-load.ts";

const loadText = textLoader(t);

const FIELDS_MESSAGE = "expected a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first)";

t.test("a job with every key loads to exactly this; the schedule is trimmed", async (t) => {
  const result = await loadText(`jobs:
  reindex:
    command: [/opt/reindex, --all]
    schedule: "  30 3 * * 1-5  "
    timezone: Europe/Berlin
    timeout: 5m
    cwd: /srv
    env: {MODE: full}
    on_failure: alert-team
    on_failure_timeout: 10s
    capture_bytes: 2048
    user: app
job_logs: {keep: 5, max_age: 7d}
`);
  const config = configOf(result);
  t.same(result.ok && result.warnings, []);
  t.strictSame(config.jobs, [{
    name: "reindex",
    command: ["/opt/reindex", "--all"],
    env: { MODE: "full" },
    onFailureTimeoutMs: 10_000,
    captureBytes: 2048,
    schedule: "30 3 * * 1-5",
    timezone: "Europe/Berlin",
    timeoutMs: 300_000,
    cwd: "/srv",
    onFailure: ["/bin/sh", "-c", "alert-team"],
    user: configOf(await loadText("services:\n  s: {command: /s, user: app}\n")).services[0]!.user,
  }]);
  t.strictSame(config.jobLogs, { keep: 5, maxAgeMs: 7 * 86_400_000 });
});

t.test("defaults: no schedule (run only by boxinit job), 1 MiB capture, 60s hook bound, 100 reports for 30 days", async (t) => {
  const config = configOf(await loadText("jobs:\n  once: {command: 'echo hi'}\n"));
  t.strictSame(config.jobs, [{ name: "once", command: ["/bin/sh", "-c", "echo hi"], env: {}, onFailureTimeoutMs: 60_000, captureBytes: 1024 * 1024 }]);
  t.strictSame(config.jobLogs, { keep: 100, maxAgeMs: 30 * 86_400_000 });
  t.same(configOf(await loadText("services:\n  s: {command: /s}\n")).jobs, [], "no jobs: key, no jobs");
});

t.test("5-field and 6-field (seconds first) schedules load", async (t) => {
  const config = configOf(await loadText(`jobs:
  five: {command: /a, schedule: "*/5 * * * *"}
  six: {command: /b, schedule: "0 */5 * * * *"}
  every-second: {command: /c, schedule: "* * * * * *"}
  named: {command: /d, schedule: "0 3 * JAN-MAR MON"}
`));
  t.same(config.jobs.map((job) => [job.name, job.schedule]), [
    ["five", "*/5 * * * *"], ["six", "0 */5 * * * *"], ["every-second", "* * * * * *"], ["named", "0 3 * JAN-MAR MON"],
  ]);
});

t.test("4 and 7 fields are refused with the exact message", async (t) => {
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '* * * *'}\n")), [`jobs.a.schedule: ${FIELDS_MESSAGE}, got "* * * *"`]);
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '0 0 3 * * * 2027'}\n")), [`jobs.a.schedule: ${FIELDS_MESSAGE}, got "0 0 3 * * * 2027"`]);
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '@daily x'}\n")), [`jobs.a.schedule: ${FIELDS_MESSAGE}, got "@daily x"`]);
});

t.test("an invalid field value is croner's message on the schedule's path", async (t) => {
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '60 * * * *'}\n")), ["jobs.a.schedule: Invalid value for minute: 60"]);
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '0 25 * * *'}\n")), ["jobs.a.schedule: Invalid value for hour: 25"]);
});

t.test("an unknown time zone is an error on jobs.NAME.timezone", async (t) => {
  const errors = errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '0 3 * * *', timezone: Mars/Olympus}\n"));
  t.equal(errors.length, 1, errors.join("\n"));
  t.match(errors[0], /^jobs\.a\.timezone: .*Mars\/Olympus/);
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '0 3 * * *', timezone: ''}\n")),
    ['jobs.a.timezone: expected a time zone such as Europe/Berlin, got ""']);
});

t.test("timezone without schedule is a warning, not an error", async (t) => {
  const result = await loadText("jobs:\n  a: {command: /a, timezone: UTC}\n");
  t.ok(result.ok);
  t.same(result.ok && result.warnings, ["jobs.a.timezone: ignored without schedule"]);
});

t.test("a schedule that can never fire (31 February) is refused", async (t) => {
  const errors = errorsOf(await loadText("jobs:\n  a: {command: /a, schedule: '0 0 31 2 *'}\n"));
  t.equal(errors.length, 1);
  t.match(errors[0], /^jobs\.a\.schedule: /);
});

t.test("capture_bytes below 1024 is refused", async (t) => {
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, capture_bytes: 100}\n")), ['jobs.a.capture_bytes: expected at least 1024, got "100"']);
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, capture_bytes: 1MB}\n")), ['jobs.a.capture_bytes: expected a whole number 0 or more, got "1MB"']);
  t.equal(configOf(await loadText("jobs:\n  a: {command: /a, capture_bytes: 1024}\n")).jobs[0]?.captureBytes, 1024, "1024 itself is fine");
});

t.test("job_logs.keep 0 is refused; keep and max_age are checked", async (t) => {
  t.same(errorsOf(await loadText("job_logs: {keep: 0}\n")), ['job_logs.keep: expected at least 1 (the newest report is always kept), got "0"']);
  t.same(errorsOf(await loadText("job_logs: {keep: -1, max_age: 0s}\n")), [
    'job_logs.keep: expected a whole number 0 or more, got "-1"',
    'job_logs.max_age: expected a duration above 0, got "0s"',
  ]);
  t.same(errorsOf(await loadText("job_logs: [keep]\n")), ["job_logs: expected a map with keep and max_age, got a list"]);
});

t.test("job_logs.max_age is compared with file ages, not a timer: 30d (the default) and more load (issue 13, bug 4)", async (t) => {
  t.equal(configOf(await loadText("job_logs: {max_age: 30d}\n")).jobLogs.maxAgeMs, 30 * 86_400_000);
  t.equal(configOf(await loadText("job_logs: {keep: 100, max_age: 400d}\n")).jobLogs.maxAgeMs, 400 * 86_400_000);
  t.equal(configOf(await loadText("services:\n  a: {command: /a, stable_after: 60d}\n")).services[0]?.stableAfterMs, 60 * 86_400_000, "stable_after is compared too");
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, timeout: 30d}\n")), ['jobs.a.timeout: expected a duration up to 596h (the timer limit), got "30d"'], "a timeout is a timer: still bounded");
});

t.test("a NUL byte in a job's command, hook, cwd or env is refused (issue 13, bug 6)", async (t) => {
  t.same(errorsOf(await loadText('jobs:\n  a:\n    command: [sh, -c, "echo $1", "x\\0y"]\n    on_failure: "alert\\0x"\n    cwd: "/srv\\0x"\n    env: {K: "v\\0w"}\n')), [
    'jobs.a.command[3]: expected text without NUL bytes (a NUL byte would cut it short), got "x\\u0000y"',
    'jobs.a.cwd: expected text without NUL bytes (a NUL byte would cut it short), got "/srv\\u0000x"',
    'jobs.a.env.K: expected text without NUL bytes (a NUL byte would cut it short), got "v\\u0000w"',
    'jobs.a.on_failure: expected text without NUL bytes (a NUL byte would cut it short), got "alert\\u0000x"',
  ]);
});

t.test("unknown keys get a did-you-mean", async (t) => {
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, schedul: '* * * * *', on_faillure: x}\njob_logs: {keeep: 3}\n")), [
    'jobs.a.schedul: unknown key (did you mean "schedule"?)',
    'jobs.a.on_faillure: unknown key (did you mean "on_failure"?)',
    'job_logs.keeep: unknown key (did you mean "keep"?)',
  ]);
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, frobnicate: 1}\n")), ["jobs.a.frobnicate: unknown key"], "no hint when nothing is close");
});

t.test("names, commands and values of a job are checked like a service's", async (t) => {
  t.same(errorsOf(await loadText("jobs:\n  ../x: {command: /a}\n")), [
    'jobs["../x"]: expected a job name of letters, digits, _ . - (at most 63, starting with a letter or digit), got "../x"',
  ]);
  t.same(errorsOf(await loadText(`jobs:\n  ${"a".repeat(64)}: {command: /a}\n  ${"b".repeat(63)}: {command: /b}\n`)), [
    `jobs["${"a".repeat(32)}…"]: a job name is at most 63 bytes (it is part of the failure report's file name), got 64`,
  ], "64 bytes refused, 63 accepted");
  // An explicit key (? KEY): YAML caps implicit keys at 1024 characters.
  const long = errorsOf(await loadText(`jobs:\n  ? ${"x".repeat(10_000)}\n  : {command: /a, timeout: never}\n`));
  t.match(long, [/^jobs\["x{32}…"\]: a job name is at most 63 bytes .*got 10000$/, /^jobs\["x{32}…"\]\.timeout: /], "the path is shortened in every message about the entry");
  t.ok(long.every((line) => line.length < 200));
  t.same(errorsOf(await loadText("jobs:\n  a: {schedule: '* * * * *'}\n")), [
    "jobs.a.command: expected a command (a list of strings, or a string for sh -c), got nothing",
  ]);
  t.same(errorsOf(await loadText("jobs:\n  a:\n")), ["jobs.a: expected a map of job settings, got nothing"]);
  t.same(errorsOf(await loadText("jobs:\n  a: {command: /a, timeout: 0s, on_failure_timeout: never, cwd: rel}\n")), [
    'jobs.a.timeout: expected a duration above 0, got "0s"',
    'jobs.a.cwd: expected an absolute path, got "rel"',
    'jobs.a.on_failure_timeout: expected a duration such as 250ms, 9s, 5m, got "never"',
  ]);
});

t.test("every job problem is reported at once, across jobs, with the schedule check after the schema", async (t) => {
  t.same(errorsOf(await loadText(`jobs:
  a: {command: /a, schedule: "* * * *"}
  b: {command: /b, schedule: "61 * * * *"}
  c: {command: /c, capture_bytes: 1}
job_logs: {keep: 0}
`)), [
    'jobs.c.capture_bytes: expected at least 1024, got "1"',
    'job_logs.keep: expected at least 1 (the newest report is always kept), got "0"',
    `jobs.a.schedule: ${FIELDS_MESSAGE}, got "* * * *"`,
    "jobs.b.schedule: Invalid value for minute: 61",
  ]);
});

t.test("job mode (resolveUsersOf: jobs): a service's user: is not checked, a job's still is", async (t) => {
  const text = "services:\n  web: {command: /web, user: root}\njobs:\n  a: {command: /a}\n";
  const asUser = { isRoot: false, ownUid: 1000, ownGid: 1000 };
  t.match(errorsOf(await loadText(text, asUser)), [/^services\.web\.user: switching to user "root" needs root/], "PID 1 mode checks the service's user");
  t.same(errorsOf(await loadText(text, { ...asUser, resolveUsersOf: "jobs" })), [], "job mode does not");
  t.match(errorsOf(await loadText("jobs:\n  a: {command: /a, user: root}\n", { ...asUser, resolveUsersOf: "jobs" })), [/^jobs\.a\.user: switching to user "root" needs root/]);
});

// The upkeep of status.json's `jobs` as pure decisions: which records are
// removed (age, then count; oldest first; never the current, a running or a
// still-scheduled one) and which "running" records are found killed.
import t from "tap";
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import {
  currentRunner, isRunnerGone, lastActivityMs, markKilledRuns, MAX_JOB_RECORDS, pidNamespace, pruneRecords, runnerOf, type Runner,
} from "../../src/jobs/record-upkeep.ts";

const NOW = Date.parse("2026-11-26T12:00:00.000Z");
const DAY_MS = 86_400_000;
const ago = (days: number): string => new Date(NOW - days * DAY_MS).toISOString();

t.test("lastActivityMs: the latest of lastStart, lastEnd and lastSkip.at", async (t) => {
  t.equal(lastActivityMs({ lastStart: ago(3), lastEnd: ago(2), lastSkip: { at: ago(1), reason: "x" } }), NOW - DAY_MS);
  t.equal(lastActivityMs({ lastStart: ago(3), lastEnd: null }), NOW - 3 * DAY_MS);
  t.equal(lastActivityMs({ lastStart: "not a time" }), undefined);
  t.equal(lastActivityMs({}), undefined);
  t.equal(lastActivityMs([1]), undefined);
});

t.test("pruneRecords by age: expired ones, oldest first; the current, running and scheduled ones never", async (t) => {
  const jobs = {
    a: { lastEnd: ago(31) },
    b: { lastEnd: ago(45) },
    c: { lastEnd: ago(29) },
    current: { lastEnd: ago(400) },
    running: { running: true, lastStart: ago(400) },
    scheduled: { nextRun: "2027-01-01T00:00:00.000Z", lastEnd: ago(400) },
    // A monthly job after the box's clean stop (nextRun null) at the next boot: its history stays.
    monthly: { schedule: "0 3 1 * *", nextRun: null, lastEnd: ago(31) },
    unknown: { runs: 3 },
  };
  const { jobs: kept, removed } = pruneRecords(jobs, { keepForMs: 30 * DAY_MS, nowMs: NOW, current: "current" });
  t.same(removed, [{ name: "b", lastActivity: ago(45) }, { name: "a", lastActivity: ago(31) }]);
  t.same(Object.keys(kept), ["c", "current", "running", "scheduled", "monthly", "unknown"], "order kept; a record showing no time has no age");
  const none = pruneRecords(jobs, { keepForMs: Infinity, nowMs: NOW, current: "current" });
  t.equal(none.jobs, jobs, "no age limit: the same object");
  t.same(pruneRecords(jobs, { keepForMs: Number.NaN, nowMs: NOW, current: "current" }).removed, [], "NaN removes nothing");
  t.same(pruneRecords({ future: { lastEnd: ago(-5) } }, { keepForMs: DAY_MS, nowMs: NOW, current: "x" }).removed, [], "a time in the future is young");
});

t.test("pruneRecords by count: the oldest beyond the limit, timeless ones first; in-use ones stay even over it", async (t) => {
  const jobs = {
    x: { lastEnd: ago(3) }, y: { lastEnd: ago(1) }, timeless: {}, z: { lastEnd: ago(2) }, running: { running: true }, current: {},
  };
  const { jobs: kept, removed } = pruneRecords(jobs, { keepForMs: Infinity, nowMs: NOW, current: "current", maxRecords: 4 });
  t.same(removed.map((entry) => entry.name), ["timeless", "x"]);
  t.same(Object.keys(kept), ["y", "z", "running", "current"]);
  const tight = pruneRecords({ running: { running: true }, current: {}, old: { lastEnd: ago(1) } }, { keepForMs: Infinity, nowMs: NOW, current: "current", maxRecords: 1 });
  t.same(Object.keys(tight.jobs), ["running", "current"], "the current and running records are never removed for the count");
  t.equal(MAX_JOB_RECORDS, 10_000);
});

// The rule as written before the one-scan version: every candidate sorted
// oldest first, each removed while expired or over the count (and counted).
const pruneBySorting = (jobs: Record<string, unknown>, keepForMs: number, nowMs: number, current: string, maxRecords: number): string[] => {
  const inUse = (record: unknown): boolean => {
    const r = record as Record<string, unknown>;
    return r.running === true || typeof r.nextRun === "string" || typeof r.schedule === "string";
  };
  const candidates = Object.entries(jobs)
    .filter(([name, record]) => name !== current && !inUse(record))
    .map(([name, record]) => ({ name, activityMs: lastActivityMs(record) }))
    .sort((a, b) => (a.activityMs ?? -Infinity) - (b.activityMs ?? -Infinity) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let excess = Object.keys(jobs).length - maxRecords;
  const removed: string[] = [];
  for (const candidate of candidates) {
    const isExpired = candidate.activityMs !== undefined && nowMs - candidate.activityMs > keepForMs;
    if (!isExpired && excess <= 0) continue;
    removed.push(candidate.name);
    excess--;
  }
  return removed;
};

t.test("pruneRecords removes what sorting everything removed, in the same order (400 random sets of records)", async (t) => {
  // A small deterministic generator: the same sets on every run.
  let seed = 17;
  const random = (below: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  let differences = 0;
  for (let round = 0; round < 400; round++) {
    const jobs: Record<string, unknown> = {};
    const count = 1 + random(40);
    for (let i = 0; i < count; i++) {
      const kind = random(10);
      // Equal times on purpose (days from a few values): ties are broken by name.
      const record = kind === 0 ? {} : kind === 1 ? { running: true, lastStart: ago(random(90)) } : kind === 2 ? { schedule: "0 3 * * *", lastEnd: ago(random(90)) }
        : kind === 3 ? { lastSkip: { at: ago(random(90)), reason: "backoff engaged" } } : { lastStart: ago(random(90) + 1), lastEnd: ago(random(90)) };
      jobs[`job-${random(60)}`] = record;
    }
    const keepForMs = [Infinity, Number.NaN, 30 * DAY_MS, 7 * DAY_MS, 0][random(5)]!;
    const maxRecords = [1, 3, 10, 25, 100][random(5)]!;
    const current = `job-${random(60)}`;
    const expected = pruneBySorting(jobs, keepForMs, NOW, current, maxRecords);
    const { jobs: kept, removed } = pruneRecords(jobs, { keepForMs, nowMs: NOW, current, maxRecords });
    const names = removed.map((entry) => entry.name);
    const keptNames = Object.keys(jobs).filter((name) => !expected.includes(name));
    if (JSON.stringify(names) !== JSON.stringify(expected) || JSON.stringify(Object.keys(kept)) !== JSON.stringify(keptNames)) {
      differences++;
      if (differences <= 3) t.fail(`round ${round}: removed ${JSON.stringify(names)}, expected ${JSON.stringify(expected)} (keep ${keepForMs} ms, max ${maxRecords}, current ${current})`);
    }
  }
  t.equal(differences, 0, "no set where the two differ");
});

t.test("runnerOf and markKilledRuns", async (t) => {
  t.equal(runnerOf({ pid: "1", host: "h" }), undefined);
  t.same(runnerOf({ pid: 7, host: "h" }), { pid: 7, startTime: null, pidNs: null, host: "h", runId: "?" });
  const runner: Runner = { pid: 7, startTime: "99", pidNs: "pid:[1]", host: "h", runId: "r" };
  const jobs = { gone: { running: true, runner }, done: { running: false, runner }, bare: { running: true }, other: 5 };
  const marked = markKilledRuns(jobs, () => true, () => "KILLED");
  t.same(marked.jobs, { gone: "KILLED", done: { running: false, runner }, bare: { running: true }, other: 5 });
  t.same(marked.killed, [{ name: "gone", runner }]);
  t.equal(markKilledRuns(jobs, () => false, () => "KILLED").jobs, jobs, "nothing gone: the same object");
});

t.test("isRunnerGone: only in this PID namespace and on this host, by pid and start time", async (t) => {
  const me = currentRunner("run-1", hostname());
  t.equal(me.pidNs, pidNamespace());
  t.match(me.pidNs, /^pid:\[\d+\]$/);
  t.equal(isRunnerGone(me), false, "this process is alive");
  const gonePid = Number(spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
  t.equal(isRunnerGone({ ...me, pid: gonePid }), true, "a pid that is free");
  t.equal(isRunnerGone({ ...me, startTime: "1" }), true, "a pid now used by a process started at another time");
  t.equal(isRunnerGone({ ...me, pid: gonePid, pidNs: "pid:[1]" }), false, "another namespace: unknown");
  t.equal(isRunnerGone({ ...me, pid: gonePid, host: `${hostname()}-other` }), false, "another host: unknown");
  t.equal(isRunnerGone({ ...me, pid: gonePid, startTime: null }), false, "no start time recorded: unknown");
});

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

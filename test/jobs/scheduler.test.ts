// Scheduled jobs in a box, with croner and the job runs faked: what fires a
// run, what skips it (the box, a run still going), what status.json says of
// the next run, and the stop: SIGTERM now, SIGKILL left for a little before
// the deadline, waited for no longer than it (a fake clock).
import t, { type Test } from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JobConfig } from "../../src/config/types.ts";
import type { CronFactory } from "../../src/config/jobs.ts";
import type { JobOutcome, JobRun } from "../../src/jobs/run-job.ts";
import type { JobSpec } from "../../src/jobs/types.ts";
import { Scheduler } from "../../src/jobs/scheduler.ts";
import { asReaper, FakeClock, FakeCron, FakeProcesses, recordingLog } from "../helpers/fakes.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const SIGTERM = 15;

const jobOf = (name: string, schedule?: string): JobConfig => ({
  name, command: ["/bin/report", name], env: {}, onFailureTimeoutMs: 60_000, captureBytes: 1024, ...(schedule !== undefined && { schedule }),
});

interface FakeRun {
  spec: JobSpec;
  stops: Array<[number, number]>;
  finish: () => void;
}

const setUp = (t: Test, jobs: JobConfig[]) => {
  const clock = new FakeClock().install();
  t.teardown(() => clock.uninstall());
  FakeCron.made = [];
  const stateDir = tempDir(t);
  const { log, lines } = recordingLog();
  const runs: FakeRun[] = [];
  const box = { whyNot: undefined as string | undefined };
  const startJob = (spec: JobSpec): JobRun => {
    let finish: () => void = () => {};
    const outcome = new Promise<JobOutcome>((resolve) => {
      finish = () => resolve({ kind: "finished", exitCode: 0, result: "ok" });
    });
    const run: FakeRun = { spec, stops: [], finish };
    runs.push(run);
    return { outcome, stop: (signal, graceMs) => run.stops.push([signal, graceMs]), forward: () => {} };
  };
  const scheduler = new Scheduler(
    { jobs, stateDir, graceMs: 9000, retention: { keep: 10, maxAgeMs: 86_400_000 }, hostname: "box", shouldPrefixOutput: false, whyNotNow: () => box.whyNot },
    { native: undefined, reaper: asReaper(new FakeProcesses().reaper), log, startJob },
  );
  const jobsInStatus = (): Record<string, Record<string, unknown>> => JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8")).jobs;
  return { clock, lines, runs, box, scheduler, jobsInStatus };
};

const Cron = FakeCron as unknown as CronFactory;

t.test("hasScheduledJobs: only jobs with a schedule count", async (t) => {
  t.equal(Scheduler.hasScheduledJobs([jobOf("a")]), false);
  t.equal(Scheduler.hasScheduledJobs([jobOf("a"), jobOf("b", "0 3 * * *")]), true);
});

t.test("start: one timer per scheduled job, its next run in status.json", async (t) => {
  const s = setUp(t, [jobOf("nightly", "0 3 * * *"), jobOf("by-hand")]);
  s.scheduler.start(Cron);
  t.same(FakeCron.made.map((cron) => cron.pattern), ["0 3 * * *"], "no timer for a job without a schedule");
  t.same(s.jobsInStatus().nightly, { ...s.jobsInStatus().nightly, schedule: "0 3 * * *", nextRun: "2030-01-01T03:00:00.000Z" });
  t.equal(s.jobsInStatus()["by-hand"], undefined);
  t.match(s.lines.at(-1), { event: "job-schedule", message: "job nightly scheduled", fields: { next: "2030-01-01T03:00:00.000Z" } });
});

t.test("a run fires only while the box runs; a skip is logged and kept in lastSkip", async (t) => {
  const s = setUp(t, [jobOf("nightly", "0 3 * * *")]);
  s.scheduler.start(Cron);
  s.box.whyNot = "the box is degraded";
  FakeCron.made[0]!.fire();
  t.equal(s.runs.length, 0);
  t.match(s.jobsInStatus().nightly, { lastSkip: { reason: "the box is degraded" } });
  t.match(s.lines.at(-1), { event: "job-skipped", message: "job nightly not run: the box is degraded" });
  s.box.whyNot = undefined;
  FakeCron.made[0]!.fire();
  t.equal(s.runs.length, 1);
  t.match(s.runs[0]!.spec, { name: "nightly", command: ["/bin/report", "nightly"], killGraceMs: 9000, waitMs: 0, hostname: "box" });
});

t.test("no overlap: a run due while the last one still runs is skipped; after it ends the next one runs", async (t) => {
  const s = setUp(t, [jobOf("nightly", "0 3 * * *")]);
  s.scheduler.start(Cron);
  const cron = FakeCron.made[0]!;
  cron.fire();
  cron.next = new Date("2030-01-02T03:00:00.000Z");
  cron.fire();
  t.equal(s.runs.length, 1);
  t.match(s.jobsInStatus().nightly, { lastSkip: { reason: "the previous run is still running" }, nextRun: "2030-01-02T03:00:00.000Z" });
  s.runs[0]!.finish();
  await s.clock.advance(0);
  cron.fire();
  t.equal(s.runs.length, 2, "the next one runs");
});

t.test("stop: timers stopped, no next run shown, each run gets SIGTERM and SIGKILL a little before the deadline", async (t) => {
  const s = setUp(t, [jobOf("a", "* * * * *"), jobOf("b", "* * * * *")]);
  s.scheduler.start(Cron);
  for (const cron of FakeCron.made) cron.fire();
  const stopping = s.scheduler.stop(s.clock.now() + 8000);
  t.ok(FakeCron.made.every((cron) => cron.isStopped));
  t.same([s.jobsInStatus().a!.nextRun, s.jobsInStatus().b!.nextRun], [null, null]);
  t.same(s.runs.map((run) => run.stops), [[[SIGTERM, 7000]], [[SIGTERM, 7000]]], "8 s left: 1 s kept for writing their records");
  s.runs[0]!.finish();
  await s.clock.advance(7999);
  let isDone = false;
  void stopping.then(() => {
    isDone = true;
  });
  await s.clock.advance(0);
  t.equal(isDone, false, "waits for the run still going");
  await s.clock.advance(1);
  t.equal(isDone, true, "but not past the deadline");
  FakeCron.made[0]!.fire();
  t.equal(s.runs.length, 2, "nothing fires after the stop");
});

t.test("stop with little time left keeps a quarter of it for the records", async (t) => {
  const s = setUp(t, [jobOf("a", "* * * * *")]);
  s.scheduler.start(Cron);
  FakeCron.made[0]!.fire();
  void s.scheduler.stop(s.clock.now() + 2000);
  t.same(s.runs[0]!.stops, [[SIGTERM, 1500]]);
});

t.test("croner loaded after the stop came: no timer is made", async (t) => {
  const s = setUp(t, [jobOf("a", "* * * * *")]);
  await s.scheduler.stop(s.clock.now() + 1000);
  s.scheduler.start(Cron);
  t.same(FakeCron.made, []);
});

// What follows a run (src/jobs/after-run.ts): the failure report saved in
// logs/ (or why not), logs/ tidied only where it exists, and the on_failure
// hook not started when the stop's budget is used up. Without processes.
import t from "tap";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFailureHook, saveFailureReport, tidyLogs } from "../../src/jobs/after-run.ts";
import { OutputCapture } from "../../src/jobs/capture.ts";
import type { RunState } from "../../src/jobs/job-process.ts";
import { rawPassthrough } from "../../src/jobs/passthrough.ts";
import type { JobContext, JobSpec } from "../../src/jobs/types.ts";
import type { Reaper } from "../../src/pid1/reaper.ts";
import { monotonicMs } from "../../src/time/clock.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const setUp = (t: Parameters<typeof tempDir>[0], stateDir = tempDir(t, "boxinit-after-")) => {
  const recorded = recordingLogger();
  const spec: JobSpec = {
    name: "nightly", command: ["backup", "--all"], env: {}, killGraceMs: 1000, hookTimeoutMs: 1000, captureBytes: 1024,
    retention: { keep: 10, maxAgeMs: Infinity }, stateDir, backoffFile: `${stateDir}/backoff`, hostname: "h", waitMs: 0, passthrough: rawPassthrough(), onFailure: ["/bin/false"],
  };
  const context: JobContext = { native: undefined, reaper: {} as Reaper, log: recorded.log };
  return { spec, context, recorded, stateDir };
};

const TIMES = { runId: "run-1", startedAt: new Date("2026-11-26T10:00:00.000Z"), endedAt: new Date("2026-11-26T10:00:05.000Z"), durationMs: 5000 };
const FAILED = { exitCode: 3, result: "failed" as const, outcome: "exit 3", signal: null };

t.test("a failure report: header and captured output, in logs/; its name returned and logged", async (t) => {
  const { spec, context, recorded, stateDir } = setUp(t);
  const capture = new OutputCapture(1024);
  capture.add(Buffer.from("disk full\n"));
  const file = saveFailureReport(spec, context, TIMES, { ending: { code: 3, signal: null }, timedOut: false }, capture, FAILED);
  t.match(file, /^logs\//);
  const text = readFileSync(join(stateDir, file!), "utf8");
  t.match(text, "job: nightly\nrun: run-1\ncommand: [\"backup\",\"--all\"]");
  t.match(text, "result: exit 3");
  t.match(text, /--- output .*---\ndisk full\n$/);
  t.match(recorded.at("warn").join("\n"), /job nightly failed: exit 3; report saved/);
});

t.test("a run that did not start: the report says why instead of output", async (t) => {
  const { spec, context, stateDir } = setUp(t);
  const ran = { notStarted: { problem: '"backup": not found', exitCode: 127 }, timedOut: false };
  const file = saveFailureReport(spec, context, TIMES, ran, new OutputCapture(1024), { ...FAILED, exitCode: 127 });
  t.match(readFileSync(join(stateDir, file!), "utf8"), /output: 29 bytes[^]*boxinit: "backup": not found\n$/);
});

t.test("a report that cannot be saved: an error logged, undefined returned", async (t) => {
  const base = tempDir(t, "boxinit-after-");
  writeFileSync(join(base, "file"), "");
  const { spec, context, recorded } = setUp(t, join(base, "file"));
  t.equal(saveFailureReport(spec, context, TIMES, { ending: { code: 3, signal: null }, timedOut: false }, new OutputCapture(1024), FAILED), undefined);
  t.match(recorded.at("error").join("\n"), /job nightly failed: exit 3; the report could not be saved: ENOTDIR/);
});

t.test("tidyLogs: nothing without logs/ (never created), nothing without a state directory", async (t) => {
  const { spec, context, recorded, stateDir } = setUp(t);
  tidyLogs(spec, context, true);
  t.notOk(existsSync(join(stateDir, "logs")));
  const missing = setUp(t, join(stateDir, "missing"));
  tidyLogs(missing.spec, missing.context, true);
  t.same([...recorded.at("warn"), ...missing.recorded.at("warn")], []);
});

t.test("runFailureHook: not started when the stop's grace is used up", async (t) => {
  const { spec, context, recorded } = setUp(t);
  const state: RunState = { stopUntil: monotonicMs() };
  await runFailureHook(spec, context, state, "run-1", FAILED, undefined);
  t.match(recorded.at("warn").join("\n"), /on_failure hook of job nightly not run: the stop's grace period is used up/);
  t.equal(state.hook, undefined);
});

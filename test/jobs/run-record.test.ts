// What a run writes in its record (src/jobs/run-record.ts): its start (and an
// earlier run found dead while "running"), its end with the counts, a skip.
// Through status.json in a temporary state directory, by path (no addon).
import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JobSpec, JobContext } from "../../src/jobs/types.ts";
import { recordEnd, recordSkip, recordStart } from "../../src/jobs/run-record.ts";
import { rawPassthrough } from "../../src/jobs/passthrough.ts";
import type { Reaper } from "../../src/pid1/reaper.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const specIn = (stateDir: string): JobSpec => ({
  name: "nightly", command: ["true"], env: {}, killGraceMs: 1000, hookTimeoutMs: 1000, captureBytes: 1024,
  retention: { keep: 10, maxAgeMs: Infinity }, stateDir, backoffFile: `${stateDir}/backoff`, hostname: "h", waitMs: 0, passthrough: rawPassthrough(),
});

const setUp = (t: Parameters<typeof tempDir>[0]) => {
  const stateDir = tempDir(t, "boxinit-record-");
  const recorded = recordingLogger();
  const context: JobContext = { native: undefined, reaper: {} as Reaper, log: recorded.log };
  const record = (): Record<string, any> => JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8")).jobs.nightly;
  return { spec: specIn(stateDir), context, recorded, record };
};

const START = new Date("2026-11-26T10:00:00.000Z");
const END = new Date("2026-11-26T10:00:05.000Z");

t.test("start, then end: running with its runner, then the result and the counts", async (t) => {
  const { spec, context, record } = setUp(t);
  recordStart(spec, context, "run-1", START, true);
  t.match(record(), { running: true, lastStart: START.toISOString(), runner: { runId: "run-1", host: "h" }, runs: 0 });
  recordEnd(spec, context, { startedAt: START, endedAt: END, durationMs: 4999.6 }, { exitCode: 3, result: "failed", outcome: "exit 3", signal: null }, "logs/report");
  t.match(record(), {
    running: false, runner: null, lastStart: START.toISOString(), lastEnd: END.toISOString(), lastExit: 3, lastSignal: null,
    lastResult: "failed", lastDurationMs: 5000, logFile: "logs/report", runs: 1, failures: 1,
  });
  recordEnd(spec, context, { startedAt: START, endedAt: END, durationMs: 10 }, { exitCode: 0, result: "ok", outcome: "exit 0", signal: null }, undefined);
  t.match(record(), { lastExit: 0, lastResult: "ok", logFile: null, runs: 2, failures: 1 }, "a success counts as a run only");
});

t.test("a record still running when the lock was free: the earlier run is recorded as killed, and said", async (t) => {
  const { spec, context, recorded, record } = setUp(t);
  recordStart(spec, context, "run-1", START, true);
  recordStart(spec, context, "run-2", END, true);
  t.match(record(), { running: true, runner: { runId: "run-2" }, lastResult: "killed", runs: 1, failures: 1 });
  t.match(recorded.at("warn").join("\n"), /the earlier run \(started 2026-11-26T10:00:00.000Z\) ended without recording its end/);
});

t.test("without the lock (unavailable), a running record is not taken for dead", async (t) => {
  const { spec, context, record } = setUp(t);
  recordStart(spec, context, "run-1", START, true);
  recordStart(spec, context, "run-2", END, false);
  t.match(record(), { running: true, runner: { runId: "run-2" }, lastResult: null, runs: 0, failures: 0 });
});

t.test("a skip: when and why, the counts untouched", async (t) => {
  const { spec, context, record } = setUp(t);
  recordSkip(spec, context, "backoff engaged");
  t.match(record(), { lastSkip: { reason: "backoff engaged" }, runs: 0, running: false });
  t.ok(Number.isFinite(Date.parse(record().lastSkip.at)));
});

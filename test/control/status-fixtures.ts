// status.json documents for the tests of its writers and readers.

/** A document of `count` job records, each about 500 bytes pretty-printed (as the job writer makes them). */
export const bigDocument = (count: number): Record<string, unknown> => {
  const jobs: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    jobs[`job-${String(i).padStart(5, "0")}-${"n".repeat(40)}`] = {
      running: false, lastStart: "2026-11-26T03:00:00.012Z", lastEnd: "2026-11-26T03:04:10.540Z", lastExit: 3, lastSignal: null,
      lastResult: "failed", lastDurationMs: 250528, logFile: `logs/2026-11-26T03:00:00Z-cron-failure-job-${i}-exit-3-web01`,
      runs: i, failures: 1, lastSkip: { at: "2026-11-25T03:00:00.004Z", reason: "backoff engaged" },
    };
  }
  return { schemaVersion: 1, state: "running", jobs };
};

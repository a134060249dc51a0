// status.json documents for the tests of its writers and readers (control/, jobs/, modes/).

/**
 * A document of `count` job records, each about 500 bytes pretty-printed (as
 * the job writer makes them), run at `at` (kept by retention when recent).
 */
export const bigDocument = (count: number, at = "2026-11-26T03:00:00.012Z"): Record<string, unknown> => {
  const jobs: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    jobs[`job-${String(i).padStart(5, "0")}-${"n".repeat(40)}`] = {
      running: false, lastStart: at, lastEnd: at, lastExit: 3, lastSignal: null,
      lastResult: "failed", lastDurationMs: 250528, logFile: `logs/2026-11-26T03:00:00Z-cron-failure-job-${i}-exit-3-web01`,
      runs: i, failures: 1, lastSkip: { at, reason: "backoff engaged" },
    };
  }
  return { schemaVersion: 1, state: "running", jobs };
};

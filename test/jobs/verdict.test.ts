// judge (src/jobs/verdict.ts): how a run's end becomes its exit code, the
// result word of its record and the report's wording.
import t from "tap";
import { judge, TIMEOUT_EXIT_CODE } from "../../src/jobs/verdict.ts";

t.test("judge: exit, signal, timeout, not started", async (t) => {
  t.same(judge({ ending: { code: 0, signal: null }, timedOut: false }, {}), { exitCode: 0, result: "ok", outcome: "exit 0", signal: null });
  t.same(judge({ ending: { code: 3, signal: null }, timedOut: false }, {}), { exitCode: 3, result: "failed", outcome: "exit 3", signal: null });
  t.same(judge({ ending: { code: null, signal: 9 }, timedOut: false }, {}), { exitCode: 137, result: "signal", outcome: "killed by SIGKILL (exit 137)", signal: "SIGKILL" });
  t.same(judge({ ending: { code: null, signal: 15 }, timedOut: true }, { timeoutMs: 5000 }), {
    exitCode: TIMEOUT_EXIT_CODE, result: "timeout", outcome: "timed out after 5s, ended by SIGTERM (exit 124)", signal: "SIGTERM",
  });
  t.equal(judge({ ending: { code: 0, signal: null }, timedOut: true }, { timeoutMs: 250 }).exitCode, 124, "a job that exits 0 after its timeout's TERM still timed out");
  t.same(judge({ notStarted: { problem: '"nope": not found', exitCode: 127 }, timedOut: false }, {}), {
    exitCode: 127, result: "failed", outcome: 'not started: "nope": not found (exit 127)', signal: null,
  });
});

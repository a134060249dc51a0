// What a warm-up's outcome means for a service (judgeWarmup), and that its
// checks run as the service would (runServiceWarmup over a fake system).
import t from "tap";
import { judgeWarmup, runServiceWarmup } from "../../src/supervisor/service-warmup.ts";
import { FakeServiceSystem, recordingLog, serviceConfig, warmupConfig } from "../helpers/fakes.ts";

t.test("ready and aborted pass through without a line", async (t) => {
  const { log, lines } = recordingLog();
  t.same(judgeWarmup({ outcome: "ready", tries: 2, elapsedMs: 1000 }, "web", warmupConfig(), log), { kind: "ready" });
  t.same(judgeWarmup({ outcome: "aborted" }, "web", warmupConfig(), log), { kind: "aborted" });
  t.same(lines, []);
});

t.test("a timeout: failed (an error), or ready with a warning when on_timeout is continue", async (t) => {
  const { log, lines } = recordingLog();
  const timeout = { outcome: "timeout" as const, tries: 4, lastProblem: "HTTP 503" };
  t.same(judgeWarmup(timeout, "web", warmupConfig({ timeoutMs: 4000 }), log), { kind: "failed", problem: "warm-up did not pass within 4s (4 tries; last: HTTP 503)" });
  t.same(judgeWarmup(timeout, "web", warmupConfig({ timeoutMs: 4000, onTimeout: "continue" }), log), { kind: "ready" });
  t.same(lines.map((line) => [line.level, line.message]), [
    ["error", "service web: warm-up did not pass within 4s (4 tries; last: HTTP 503)"],
    ["warn", "service web: warm-up did not pass within 4s (4 tries; last: HTTP 503); on_timeout: continue"],
  ]);
});

t.test("the checks run in the service's environment and directory, with the abort signal", async (t) => {
  const system = new FakeServiceSystem();
  const { log } = recordingLog();
  const abort = new AbortController();
  await runServiceWarmup(system, serviceConfig({ cwd: "/srv", env: { PORT: "8080" } }), warmupConfig(), log, abort.signal);
  t.equal(system.warmupCalls.length, 1);
  t.match(system.warmupCalls[0], { service: "web", cwd: "/srv", signal: abort.signal, env: { PORT: "8080" } });
  t.equal(system.warmupCalls[0]!.env?.PATH, process.env.PATH, "boxinit's environment under the service's own");
});

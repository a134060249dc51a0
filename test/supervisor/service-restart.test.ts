// A service's side of the restart decision (pure): the first failure of a
// series, the line that says what happens, lastExit's shape, and Restarts'
// counts and timer (a fake clock).
import t from "tap";
import { afterExit, lastExitOf, Restarts, type RestartCount } from "../../src/supervisor/service-restart.ts";
import { FakeClock, serviceConfig } from "../helpers/fakes.ts";

const config = serviceConfig({ restart: "on-failure", maxRestarts: 2, stableAfterMs: 10_000 });
const fresh: RestartCount = { consecutiveRestarts: 0, firstFailure: undefined };
const failed = { code: 3, signal: null };

t.test("lastExitOf: code, signal by name, the time", async (t) => {
  const at = new Date("2030-01-01T00:00:00.000Z");
  t.same(lastExitOf({ code: 3, signal: null }, at), { code: 3, signal: null, at: "2030-01-01T00:00:00.000Z" });
  t.same(lastExitOf({ code: null, signal: 15 }, at), { code: null, signal: "SIGTERM", at: "2030-01-01T00:00:00.000Z" });
});

t.test("a restart: the count grows, the first failure is kept, the line names the delay", async (t) => {
  const first = afterExit(config, fresh, failed, 500, {}, false);
  t.same(first.decision, { action: "restart", delayMs: 1000, consecutiveRestarts: 1 });
  t.same(first.count, { consecutiveRestarts: 1, firstFailure: "exited with code 3" });
  t.same(first.line, { level: "warn", message: "service web exited with code 3; restarting in 1s" });
  const second = afterExit(config, first.count, { code: 4, signal: null }, 500, {}, false);
  t.same(second.count, { consecutiveRestarts: 2, firstFailure: "exited with code 3" }, "the series' first failure stays");
  t.match(second.line.message, /restarting in 2s$/);
});

t.test("giving up names the first failure when it differs from the last", async (t) => {
  const after = afterExit(config, { consecutiveRestarts: 2, firstFailure: "exited with code 3" }, { code: 4, signal: null }, 500, {}, false);
  t.equal(after.decision.action, "give-up");
  t.equal(after.line.level, "error");
  t.match(after.line.message, /^service web: exited with code 4 after 2 restarts in a row .*; giving up \(the first failure of this series: exited with code 3\)$/);
  t.same(after.count, { consecutiveRestarts: 2, firstFailure: "exited with code 3" }, "the count is left as it was");
});

t.test("a run of stable_after starts a new series; a failed start's problem is its cause", async (t) => {
  const after = afterExit(config, { consecutiveRestarts: 2, firstFailure: "exited with code 3" }, failed, 10_000, { problem: "service web: warm-up did not pass" }, false);
  t.same(after.count, { consecutiveRestarts: 1, firstFailure: "service web: warm-up did not pass" });
  t.same(after.decision, { action: "restart", delayMs: 1000, consecutiveRestarts: 1 });
});

t.test("done: info for a clean exit, error for a failure, and nothing restarts while stopping", async (t) => {
  t.same(afterExit(config, fresh, { code: 0, signal: null }, 500, {}, false).line, { level: "info", message: "service web: exited with code 0; restart: on-failure restarts only after a failure" });
  t.same(afterExit(config, fresh, failed, 500, {}, true).line, { level: "error", message: "service web: exited with code 3 while stopping" });
  t.equal(afterExit(config, fresh, failed, 0, { cannotRun: "it cannot be run at all" }, false).decision.action, "give-up", "cannot run: give up whatever the policy");
});

t.test("Restarts: shortages double the delay; a start ends the series; one timer, cancellable", async (t) => {
  const clock = new FakeClock().install();
  t.teardown(() => clock.uninstall());
  const restarts = new Restarts();
  t.same([restarts.shortage(config), restarts.shortage(config), restarts.shortage(config)], [1000, 2000, 4000]);
  t.equal(restarts.shortagesInRow, 3);
  restarts.started();
  t.equal(restarts.shortage(config), 1000, "counted again from the start");
  const due: string[] = [];
  restarts.schedule(1000, () => due.push("first"));
  restarts.cancel();
  restarts.schedule(500, () => due.push("second"));
  await clock.advance(1000);
  t.same(due, ["second"], "a cancelled start never comes");
  t.same(restarts.decide(config, failed, 500, {}, false).decision, { action: "restart", delayMs: 1000, consecutiveRestarts: 1 });
  t.same(restarts.decide(config, failed, 500, {}, false).decision, { action: "restart", delayMs: 2000, consecutiveRestarts: 2 }, "the count carries to the next decision");
});

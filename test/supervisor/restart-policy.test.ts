import t from "tap";
import { decideAfterExit, describeEnding, nextRestartDelayMs, type ExitFacts } from "../../src/supervisor/restart-policy.ts";

const exited = (code: number) => ({ code, signal: null });
const killedBy = (signal: number) => ({ code: null, signal });

// A service that ran 1 s (not stable), restarted twice in a row so far.
const base: ExitFacts = {
  policy: "always",
  ending: exited(1),
  ranForMs: 1000,
  consecutiveRestarts: 2,
  maxRestarts: 5,
  stableAfterMs: 10_000,
  restartDelayMs: 100,
  restartMaxDelayMs: 1000,
  isStopping: false,
};

t.test("delay doubles per consecutive restart up to the cap", async (t) => {
  const cases: Array<[number, number, number, number]> = [
    // consecutive, base, max, expected
    [0, 100, 5000, 100],
    [1, 100, 5000, 200],
    [2, 100, 5000, 400],
    [5, 100, 5000, 3200],
    [6, 100, 5000, 5000],
    [2000, 100, 5000, 5000],
    [0, 0, 5000, 0],
    [3, 100, 50, 50],
    [-1, 100, 5000, 100],
  ];
  for (const [consecutive, baseMs, maxMs, expected] of cases) {
    t.equal(nextRestartDelayMs(consecutive, baseMs, maxMs), expected, `${consecutive} × ${baseMs}ms, cap ${maxMs}ms`);
  }
});

t.test("decisions", async (t) => {
  const cases: Array<{ name: string; facts: Partial<ExitFacts>; action: string; delayMs?: number; consecutive?: number; reason?: RegExp }> = [
    { name: "no: a failure stays down", facts: { policy: "no" }, action: "done", reason: /exited with code 1; restart: no/ },
    { name: "no: a clean exit stays down", facts: { policy: "no", ending: exited(0) }, action: "done" },
    { name: "on-failure: exit 0 is done", facts: { policy: "on-failure", ending: exited(0) }, action: "done", reason: /on-failure/ },
    { name: "on-failure: non-zero restarts", facts: { policy: "on-failure", ending: exited(3) }, action: "restart", delayMs: 400, consecutive: 3 },
    { name: "on-failure: a signal death restarts", facts: { policy: "on-failure", ending: killedBy(9) }, action: "restart", delayMs: 400, consecutive: 3 },
    { name: "always: exit 0 restarts", facts: { ending: exited(0) }, action: "restart", delayMs: 400, consecutive: 3 },
    { name: "always: first restart uses the base delay", facts: { consecutiveRestarts: 0 }, action: "restart", delayMs: 100, consecutive: 1 },
    { name: "delay capped", facts: { consecutiveRestarts: 4, maxRestarts: 10 }, action: "restart", delayMs: 1000, consecutive: 5 },
    { name: "stable run resets count and delay", facts: { consecutiveRestarts: 4, ranForMs: 10_000 }, action: "restart", delayMs: 100, consecutive: 1 },
    { name: "stable run also resets before the cap check", facts: { consecutiveRestarts: 5, ranForMs: 60_000 }, action: "restart", delayMs: 100, consecutive: 1 },
    { name: "reaching max_restarts gives up", facts: { consecutiveRestarts: 5 }, action: "give-up", reason: /after 5 restarts in a row \(max_restarts: 5;/ },
    { name: "beyond max_restarts gives up", facts: { consecutiveRestarts: 7 }, action: "give-up", reason: /7 restarts/ },
    { name: "one short of max restarts", facts: { consecutiveRestarts: 4 }, action: "restart", delayMs: 1000, consecutive: 5 },
    { name: "max_restarts 0: never restarted", facts: { consecutiveRestarts: 0, maxRestarts: 0 }, action: "give-up" },
    { name: "on-failure exit 0 at the cap is done, not give-up", facts: { policy: "on-failure", ending: exited(0), consecutiveRestarts: 5 }, action: "done" },
    { name: "stopping: always is done", facts: { isStopping: true }, action: "done", reason: /while stopping/ },
    { name: "stopping: beats give-up", facts: { isStopping: true, consecutiveRestarts: 9 }, action: "done" },
    { name: "stopping: a signal death is done", facts: { isStopping: true, policy: "on-failure", ending: killedBy(15) }, action: "done", reason: /killed by SIGTERM while stopping/ },
  ];
  for (const c of cases) {
    const decision = decideAfterExit({ ...base, ...c.facts });
    t.equal(decision.action, c.action, c.name);
    if (decision.action === "restart") {
      t.equal(decision.delayMs, c.delayMs, `${c.name}: delay`);
      t.equal(decision.consecutiveRestarts, c.consecutive, `${c.name}: count`);
    } else if (c.reason) {
      t.match(decision.reason, c.reason, `${c.name}: reason`);
    }
  }
});

t.test("endings in words", async (t) => {
  t.equal(describeEnding(exited(0)), "exited with code 0");
  t.equal(describeEnding(killedBy(9)), "was killed by SIGKILL");
  t.equal(describeEnding(killedBy(40)), "was killed by signal 40");
  t.equal(describeEnding({ code: null, signal: null }), "ended in an unknown way");
});

// A self-managing tini-style run's box (src/control/command-box.ts) on a
// temporary state directory, without processes: the states status.json goes
// through (the table: command-box-states.test.ts), backoff engaged while the
// command runs asking for the stop once, and a run that never started. The
// binary's side: test/integration/tini-self-managing.test.ts.
import t from "tap";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startCommandBox, type CommandBoxDeps } from "../../src/control/command-box.ts";
import type { CommandBoxPlan } from "../../src/control/command-box-plan.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";

const AT = "2026-11-26T10:00:00.000Z";
const LATER = "2026-11-26T10:00:09.000Z";

const setUp = (t: Parameters<typeof tempDir>[0]) => {
  const stateDir = tempDir(t, "boxinit-command-box-");
  const plan: CommandBoxPlan = { stateDir, backoffFile: join(stateDir, "backoff"), heartbeatMs: 60_000, backoffWatch: "poll", backoffPollMs: 20 };
  const recorded = recordingLogger();
  let backoffs = 0;
  let isStopping = false;
  const deps: CommandBoxDeps = { log: recorded.log, native: undefined, onBackoff: () => { backoffs += 1; }, isStopping: () => isStopping };
  const status = (): Record<string, any> => JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8"));
  return { plan, deps, recorded, status, backoffs: () => backoffs, stop: () => { isStopping = true; } };
};

t.test("started, asked to stop, ended: running, stopping, stopped with the exit code", async (t) => {
  const { plan, deps, status } = setUp(t);
  const box = await startCommandBox(plan, deps, { isStarted: true, at: AT });
  t.match(status(), { state: "running", since: AT, pid: process.pid, backoff: false, exitCode: undefined, services: {} });
  box.stopping(true, LATER);
  t.match(status(), { state: "stopping", since: LATER });
  await box.ended(143, false, LATER);
  t.match(status(), { state: "stopped", exitCode: 143 }, "a requested stop ends stopped whatever the code");
});

t.test("the command ends on its own: failed unless 0; a fault is failed", async (t) => {
  for (const [code, isFault, state] of [[0, false, "stopped"], [3, false, "failed"], [0, true, "failed"]] as const) {
    const { plan, deps, status } = setUp(t);
    const box = await startCommandBox(plan, deps, { isStarted: true, at: AT });
    await box.ended(code, isFault, LATER);
    t.match(status(), { state, exitCode: code }, `code ${code}${isFault ? ", fault" : ""}`);
  }
});

t.test("not started: no running state, the end says failed", async (t) => {
  const { plan, deps, status, recorded } = setUp(t);
  const box = await startCommandBox(plan, deps, { isStarted: false, at: AT });
  box.stopping(true, LATER);
  await box.ended(127, false, LATER);
  t.match(status(), { state: "failed", exitCode: 127, since: LATER });
  t.same(recorded.at("error"), []);
});

t.test("backoff engaged while running: the stop is asked for once, and the box ends backedoff", async (t) => {
  const { plan, deps, status, backoffs, stop } = setUp(t);
  const box = await startCommandBox(plan, deps, { isStarted: true, at: AT });
  writeFileSync(join(plan.stateDir, "backoff"), "true\n");
  await waitFor("the stop asked for", () => backoffs() === 1);
  t.equal(status().backoff, true);
  stop();
  box.stopping(false, LATER);
  writeFileSync(join(plan.stateDir, "backoff"), "false\n");
  await waitFor("backoff false written", () => status().backoff === false);
  writeFileSync(join(plan.stateDir, "backoff"), "true\n");
  await waitFor("backoff true written again", () => status().backoff === true);
  t.equal(backoffs(), 1, "once stopping, backoff changes the document only");
  await box.ended(143, false, LATER);
  t.match(status(), { state: "backedoff", exitCode: 143 });
});

t.test("backoff already engaged at start: the stop is asked for at once", async (t) => {
  const { plan, deps, backoffs } = setUp(t);
  writeFileSync(join(plan.stateDir, "backoff"), "true\n");
  const box = await startCommandBox(plan, deps, { isStarted: true, at: AT });
  t.equal(backoffs(), 1);
  await box.ended(0, false, LATER);
});

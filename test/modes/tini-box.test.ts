// The tini-style run's box in-process (src/modes/tini-box.ts and
// src/control/command-box.ts): the calls modes/tini.ts makes, in order, become the
// states on disk; backoff asks for the stop with the right signal. The
// binary's side, as PID 1 and subreaper: test/integration/tini-self-managing.test.ts.
import t from "tap";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { backoffStopSignal, openCommandBox, settleBox } from "../../src/modes/tini-box.ts";
import type { CommandBoxPlan } from "../../src/control/command-box-plan.ts";
import { parseRewrites, SIGNAL_NUMBERS } from "../../src/pid1/signals.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";

const planFor = (stateDir: string): CommandBoxPlan => ({ stateDir, backoffFile: join(stateDir, "backoff"), heartbeatMs: 60_000, backoffWatch: "inotify", backoffPollMs: 1000 });
const readJson = (dir: string): Record<string, any> | undefined => {
  try {
    return JSON.parse(readFileSync(join(dir, "status.json"), "utf8"));
  } catch {
    return undefined;
  }
};
const rewrites = (...values: string[]) => parseRewrites(values).table;

t.test("the stop signal backoff sends", async (t) => {
  t.equal(backoffStopSignal(rewrites()), SIGNAL_NUMBERS.SIGTERM);
  t.equal(backoffStopSignal(rewrites("TERM:QUIT")), SIGNAL_NUMBERS.SIGQUIT, "as --rewrite maps TERM");
  t.equal(backoffStopSignal(rewrites("TERM:0")), SIGNAL_NUMBERS.SIGTERM, "TERM dropped by a rewrite: still TERM, backoff must stop the command");
});

t.test("calls made before the box is loaded are replayed in order: running, stopping, stopped", async (t) => {
  const dir = tempDir(t);
  const { log } = recordingLogger();
  const box = openCommandBox(planFor(dir), { log, native: undefined, rewrites: rewrites(), isStarted: true, requestStop: () => t.fail("no stop asked") });
  t.equal(readJson(dir), undefined, "nothing written in the turn of the spawn");
  box.stopping(true);
  t.equal(await settleBox(box, 143), 143, "the exit code is handed back");
  const json = readJson(dir)!;
  t.equal(json.state, "stopped", "asked to stop: stopped whatever the code");
  t.equal(json.exitCode, 143);
  t.equal(readFileSync(join(dir, "status"), "utf8"), "stopped\n");
});

t.test("a command that could not be started: failed with its code, nothing watched", async (t) => {
  const dir = tempDir(t);
  const { log } = recordingLogger();
  const box = openCommandBox(planFor(dir), { log, native: undefined, rewrites: rewrites(), isStarted: false, requestStop: () => {} });
  await settleBox(box, 127);
  t.equal(readJson(dir)?.state, "failed");
  t.equal(readJson(dir)?.exitCode, 127);
});

t.test("backoff while running asks for the stop once, with the rewritten signal; the end is backedoff", async (t) => {
  const dir = tempDir(t);
  const recorded = recordingLogger();
  const { log } = recorded;
  const asked: number[] = [];
  const box = openCommandBox(planFor(dir), { log, native: undefined, rewrites: rewrites("TERM:QUIT"), isStarted: true, requestStop: (signal) => asked.push(signal) });
  await waitFor("running", () => readJson(dir)?.state === "running");
  await waitFor("the watch", () => recorded.lines.some((line) => line.includes("self-managing")));
  writeFileSync(join(dir, "backoff"), "true\n");
  await waitFor("the stop request", () => asked.length > 0);
  t.same(asked, [SIGNAL_NUMBERS.SIGQUIT]);
  await waitFor("backoff in status.json", () => readJson(dir)?.backoff === true);
  writeFileSync(join(dir, "backoff"), "false\n");
  writeFileSync(join(dir, "backoff"), "true\n");
  box.stopping(true);
  await settleBox(box, 0);
  t.same(asked, [SIGNAL_NUMBERS.SIGQUIT], "asked once");
  t.equal(readJson(dir)?.state, "backedoff");
  t.equal(readJson(dir)?.exitCode, 0);
});

t.test("a stop already under way (a signal) is not turned into backoff by a backoff written meanwhile", async (t) => {
  const dir = tempDir(t);
  const { log } = recordingLogger();
  writeFileSync(join(dir, "backoff"), "true\n"); // written after the check before the spawn
  const box = openCommandBox(planFor(dir), { log, native: undefined, rewrites: rewrites(), isStarted: true, requestStop: () => t.fail("no second stop") });
  box.stopping(true);
  await settleBox(box, 0);
  t.equal(readJson(dir)?.state, "stopped");
});

t.test("backoff written between the check before the spawn and the watch: seen, stop asked", async (t) => {
  const dir = tempDir(t);
  const { log } = recordingLogger();
  writeFileSync(join(dir, "backoff"), "true\n");
  const asked: number[] = [];
  const box = openCommandBox(planFor(dir), { log, native: undefined, rewrites: rewrites(), isStarted: true, requestStop: (signal) => asked.push(signal) });
  await waitFor("the stop request", () => asked.length > 0);
  t.same(asked, [SIGNAL_NUMBERS.SIGTERM]);
  box.stopping(true);
  await settleBox(box, 143);
  t.equal(readJson(dir)?.state, "backedoff");
  t.equal(readJson(dir)?.exitCode, 143);
});

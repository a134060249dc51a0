// One job run's process, as job-process.ts is (no seam): the SIGKILL timer a
// timeout or a stop sets (the earliest wins), the time a stop leaves, the job
// name as logged, and a command that cannot be started, all without starting
// a process (the kill goes to a process group that cannot exist).
import t, { type Test } from "tap";
import { killGroupAt, runCommandOf, shown, within, type RunState, type Running } from "../../src/jobs/job-process.ts";
import { OutputCapture } from "../../src/jobs/capture.ts";
import type { JobSpec } from "../../src/jobs/types.ts";
import { PID_MAX_LIMIT } from "../../src/supervisor/pidfile.ts";
import { asReaper, FakeClock, FakeProcesses, recordingLog } from "../helpers/fakes.ts";

// Above the highest pid Linux hands out: kill(-NO_GROUP, 9) can only say ESRCH.
const NO_GROUP = PID_MAX_LIMIT + 1;

const withClock = (t: Test): FakeClock => {
  const clock = new FakeClock().install();
  t.teardown(() => clock.uninstall());
  return clock;
};

const specOf = (command: string[], name = "report"): JobSpec => ({
  name, command, env: {}, killGraceMs: 5000, hookTimeoutMs: 60_000, captureBytes: 1024,
  retention: { keep: 10, maxAgeMs: 86_400_000 }, stateDir: "/nonexistent", backoffFile: "/nonexistent/backoff", hostname: "box", waitMs: 0,
  passthrough: { write: () => {}, flush: () => {} },
});

t.test("killGroupAt: one SIGKILL timer, at the earliest time asked for", async (t) => {
  const clock = withClock(t);
  const running: Running = { pid: NO_GROUP, isDone: false };
  killGroupAt(running, clock.now() + 5000);
  t.equal(running.killAt, clock.now() + 5000);
  t.same(clock.pendingInMs(), [5000]);
  killGroupAt(running, clock.now() + 8000);
  t.equal(running.killAt, clock.now() + 5000, "a later time does not put it off");
  t.same(clock.pendingInMs(), [5000]);
  killGroupAt(running, clock.now() + 2000);
  t.equal(running.killAt, clock.now() + 2000, "a sooner one (a stop's deadline) takes its place");
  t.same(clock.pendingInMs(), [2000], "the old timer is gone");
  await clock.advance(2000);
  t.same(clock.pendingInMs(), [], "fired once, then nothing is left");
});

t.test("within: all of ms without a stop; with one, what is left before its deadline", async (t) => {
  const clock = withClock(t);
  const state: RunState = {};
  t.equal(within(state, 1000), 1000);
  state.stopUntil = clock.now() + 300;
  t.equal(within(state, 1000), 300);
  t.equal(within(state, 100), 100);
  await clock.advance(500);
  t.equal(within(state, 1000), 0, "never below 0 past the deadline");
});

t.test("shown: a job name from the command line cannot forge log lines", async (t) => {
  t.equal(shown(specOf([], "nightly")), "nightly");
  t.equal(shown(specOf([], "a\nb: forged")), "a\\nb: forged");
});

t.test("a command that cannot be started: not started, with the shell's code, and nothing left to stop", async (t) => {
  withClock(t);
  const { log, lines } = recordingLog();
  const context = { native: undefined, reaper: asReaper(new FakeProcesses().reaper), log };
  const state: RunState = {};
  const notFound = await runCommandOf(specOf(["/nonexistent/report"]), context, "run-1", new OutputCapture(1024), state);
  t.match(notFound, { timedOut: false, notStarted: { exitCode: 127, problem: /no such file/ }, captureNote: "not captured: the addon boxinit.node is not loaded" });
  t.equal(notFound.ending, undefined);
  t.equal(state.running, undefined, "nothing for a stop to signal");
  const notExecutable = await runCommandOf(specOf(["/etc"]), context, "run-2", new OutputCapture(1024), state);
  t.match(notExecutable.notStarted, { exitCode: 126 });
  t.notOk(lines.some((line) => line.message.includes("started")), "no 'started' line");
});

// The one budget of a tini-style run, phase by phase, on pretend processes
// and a fake clock: the main command's group first, then everything left,
// SIGKILL at the deadline; the order of what was sent and when.
import t, { type Test } from "tap";
import { leftoverReserveMs, stopAll, waitForNoChildren, type StopContext } from "../../src/shutdown/stop-all.ts";
import { FakeClock, FakeProcesses, recordingLog } from "../helpers/fakes.ts";

const SIGTERM = 15;
const SIGKILL = 9;
const GRACE_MS = 9000;

const setUp = (t: Test) => {
  const clock = new FakeClock().install();
  t.teardown(() => clock.uninstall());
  const processes = new FakeProcesses();
  const { log, lines } = recordingLog();
  const context: StopContext = { log, reaper: processes.reaper, scope: "descendants", signals: processes.signals };
  const deadline = clock.now() + GRACE_MS;
  return { clock, processes, lines, context, deadline, reserveMs: leftoverReserveMs(GRACE_MS) };
};

t.test("the reserve for processes outside the main command's group: min(1 s, grace/4)", async (t) => {
  t.equal(leftoverReserveMs(9000), 1000);
  t.equal(leftoverReserveMs(2000), 500);
});

t.test("the main command exits on its signal and nothing is left: one signal, no more", async (t) => {
  const s = setUp(t);
  const main = s.processes.spawn(10);
  await s.clock.until(stopAll(s.context, { main: { pgid: 10, ended: main.ended }, signal: SIGTERM, deadline: s.deadline, reserveMs: s.reserveMs }));
  t.same(s.processes.sent, ["group 10 15"]);
  t.equal(s.clock.now(), 1_000_000, "no time spent");
  t.match(s.lines, [{ event: "shutdown", message: "signalled the main command's process group", fields: { pgid: 10, signal: "SIGTERM", result: "sent" } }]);
  t.equal(s.lines.length, 1);
});

t.test("a signal the handler already sent is not sent again", async (t) => {
  const s = setUp(t);
  const main = s.processes.spawn(10);
  const stopping = stopAll(s.context, { main: { pgid: 10, ended: main.ended, isSignalSent: true }, signal: SIGTERM, deadline: s.deadline, reserveMs: s.reserveMs });
  main.end({ code: 143, signal: null });
  await s.clock.until(stopping);
  t.same(s.processes.sent, []);
  t.match(s.lines[0], { fields: { result: "sent by the signal handler" } });
});

t.test("the main command alone ignores its signal: it may use the whole budget, then SIGKILL to everything", async (t) => {
  const s = setUp(t);
  const main = s.processes.spawn(10, { ignores: [SIGTERM] });
  const stopping = stopAll(s.context, { main: { pgid: 10, ended: main.ended }, signal: SIGTERM, deadline: s.deadline, reserveMs: s.reserveMs });
  await s.clock.advance(GRACE_MS - 1);
  t.same(s.processes.sent, ["group 10 15"], "nothing more before the deadline (nobody outside its group needs the reserve)");
  await s.clock.advance(1);
  await s.clock.until(stopping);
  t.same(s.processes.sent, ["group 10 15", "all descendants 9"]);
  t.same(main.got, [SIGTERM, SIGKILL]);
  t.match(s.lines.slice(1), [
    { level: "warn", event: "phase-overran", message: "the main command did not exit within the grace period", fields: { phase: "main" } },
    { level: "warn", event: "killed", fields: { pid: 10 } },
  ]);
});

t.test("processes outside the main command's group keep the reserve: the main group is killed early, they get SIGTERM", async (t) => {
  const s = setUp(t);
  const main = s.processes.spawn(10, { ignores: [SIGTERM] });
  const daemon = s.processes.spawn(20);
  const stopping = stopAll(s.context, { main: { pgid: 10, ended: main.ended }, signal: SIGTERM, deadline: s.deadline, reserveMs: s.reserveMs });
  await s.clock.advance(GRACE_MS - s.reserveMs - 1);
  t.same(s.processes.sent, ["group 10 15"]);
  t.equal(daemon.isAlive, true);
  await s.clock.advance(1);
  await s.clock.until(stopping);
  t.same(s.processes.sent, ["group 10 15", "group 10 9", "all descendants 15"], "SIGKILL to the main group at the reserve, then SIGTERM to the rest");
  t.same(daemon.got, [SIGTERM], "the daemon got SIGTERM, not SIGKILL");
  t.equal(s.clock.now(), 1_000_000 + GRACE_MS - s.reserveMs, "done when the daemon went, before the deadline");
  t.match(s.lines.map((line) => line.event), ["shutdown", "phase-overran", "killed", "shutdown"]);
});

t.test("processes left that ignore SIGTERM: SIGKILL at the deadline, the phase named", async (t) => {
  const s = setUp(t);
  const left = s.processes.spawn(30, { ignores: [SIGTERM] });
  const stopping = stopAll(s.context, { deadline: s.deadline, reserveMs: 0 });
  await s.clock.advance(0);
  t.same(s.processes.sent, ["all descendants 15"]);
  t.match(s.lines[0], { message: "sent SIGTERM to the processes left", fields: { count: 1, pids: [30] } });
  await s.clock.advance(GRACE_MS);
  await s.clock.until(stopping);
  t.same(s.processes.sent, ["all descendants 15", "all descendants 9"]);
  t.same(left.got, [SIGTERM, SIGKILL]);
  t.match(s.lines[1], { event: "phase-overran", message: "processes left (not the main command nor a service) did not exit within the grace period", fields: { phase: "remaining" } });
});

t.test("nothing left at all: no signal is sent", async (t) => {
  const s = setUp(t);
  await s.clock.until(stopAll(s.context, { deadline: s.deadline, reserveMs: 0 }));
  t.same(s.processes.sent, []);
  t.same(s.lines, []);
});

t.test("processes that survive SIGKILL (uninterruptible sleep): given 2 s, then boxinit goes without them", async (t) => {
  const s = setUp(t);
  s.processes.spawn(30, { ignores: [SIGTERM] });
  // A process in D state: the table still shows a child after SIGKILL.
  const context: StopContext = { ...s.context, reaper: { ...s.processes.reaper, hasChildren: () => true } };
  const stopping = stopAll(context, { deadline: s.deadline, reserveMs: 0 });
  await s.clock.advance(GRACE_MS);
  t.same(s.processes.sent, ["all descendants 15", "all descendants 9"]);
  await s.clock.advance(1999);
  t.notOk(s.lines.some((line) => line.level === "error"), "not before the 2 s");
  await s.clock.advance(1);
  await stopping;
  t.match(s.lines.at(-1), { level: "error", message: "processes survived SIGKILL (uninterruptible sleep?); exiting without them" });
});

t.test("waitForNoChildren: true as soon as the last one goes, false at the deadline", async (t) => {
  const s = setUp(t);
  const child = s.processes.spawn(40);
  const waiting = waitForNoChildren(s.processes.reaper, s.clock.now() + 1000);
  await s.clock.advance(500);
  child.end({ code: 0, signal: null });
  t.equal(await waiting, true);
  t.equal(s.clock.now(), 1_000_500);
  s.processes.spawn(41);
  const late = waitForNoChildren(s.processes.reaper, s.clock.now() + 1000);
  await s.clock.advance(1000);
  t.equal(await late, false);
});

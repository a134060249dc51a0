// The reaper over a fake addon (peekZombie/reap) and a fake system: reaping
// in exit order, leaving Node's own children to libuv, the bound on one pass,
// and the safety sweep that nudges libuv when an owned zombie stays first.
import t, { type Test } from "tap";
import { Reaper } from "../../src/pid1/reaper.ts";
import type { Ending } from "../../src/pid1/exit-code.ts";
import { exitStatus, FakeClock, FakeReaperSystem, FakeReapingAddon, flush, recordingLog, signalStatus } from "../helpers/fakes.ts";

const setUp = (t: Test, hasAddon = true) => {
  const clock = new FakeClock().install();
  t.teardown(() => clock.uninstall());
  const addon = new FakeReapingAddon();
  const system = new FakeReaperSystem();
  const { log, lines } = recordingLog();
  const reaper = new Reaper(hasAddon ? addon : undefined, log, system);
  const reaped: Array<[number, Ending]> = [];
  reaper.onReaped((pid, ending) => reaped.push([pid, ending]));
  let quiet = 0;
  reaper.onNoChildren(() => quiet++);
  reaper.install();
  return { clock, addon, system, lines, reaper, reaped, quiet: () => quiet };
};

t.test("a sweep reaps every exited child in exit order, then stops at one still running", async (t) => {
  const s = setUp(t);
  s.addon.add(11);
  s.addon.exit(12, exitStatus(3));
  s.addon.exit(13, signalStatus(9));
  s.reaper.sweep();
  t.same(s.addon.calls, ["peek:zombie 12", "reap 12", "peek:zombie 13", "reap 13", "peek:none-exited"]);
  t.same(s.reaped, [[12, { code: 3, signal: null }], [13, { code: null, signal: 9 }]], "each listener hears the decoded ending");
  t.equal(s.reaper.reapedCount, 2);
  t.equal(s.reaper.hasChildren(), true, "11 still runs");
  t.equal(s.quiet(), 0);
  t.match(s.lines, [{ level: "trace", event: "orphan-reaped", fields: { pid: 12, code: 3 } }, { fields: { pid: 13, signal: "SIGKILL" } }]);
});

t.test("the last child reaped: 'no children' is told", async (t) => {
  const s = setUp(t);
  s.addon.exit(12, exitStatus(0));
  s.system.sigchld();
  t.same(s.addon.calls, ["peek:zombie 12", "reap 12", "peek:no-children"], "SIGCHLD runs a sweep");
  t.equal(s.quiet(), 1);
  t.equal(s.reaper.hasChildren(), false);
});

t.test("a child Node spawned is libuv's: the sweep stops at it, and goes on once libuv has reaped it", async (t) => {
  const s = setUp(t);
  const child = s.system.spawnNodeChild(20);
  s.addon.exit(20, exitStatus(0));
  s.addon.exit(21, exitStatus(5));
  s.reaper.sweep();
  t.same(s.addon.calls, ["peek:zombie 20"], "no reap of an owned pid, and nothing behind it yet");
  t.same(s.reaped, []);
  s.addon.reapedElsewhere(20);
  child.emit("exit");
  t.same(s.addon.calls.slice(1), ["peek:zombie 21", "reap 21", "peek:no-children"], "its 'exit' sweeps again");
  t.same(s.reaped, [[21, { code: 5, signal: null }]]);
  t.notOk(s.reaped.some(([pid]) => pid === 20), "libuv's child is never reported here");
  s.addon.exit(20, exitStatus(0)); // the pid reused by an orphan: no longer owned
  s.reaper.sweep();
  t.same(s.reaped.at(-1), [20, { code: 0, signal: null }]);
});

t.test("the safety sweep: an owned zombie first in line for a whole interval nudges libuv, and the unowned behind it are reaped by pid", async (t) => {
  const s = setUp(t);
  s.system.spawnNodeChild(20);
  s.addon.exit(20, exitStatus(0));
  s.addon.exit(21, exitStatus(1));
  s.system.children = [20, 21];
  await s.clock.advance(1000);
  t.equal(s.system.nudges, 0, "the first interval only notes it");
  t.same(s.reaped, []);
  await s.clock.advance(1000);
  t.equal(s.system.nudges, 1, "still first a whole interval later: SIGCHLD to ourselves");
  t.same(s.reaped, [[21, { code: 1, signal: null }]], "the unowned one reaped by pid");
  t.notOk(s.addon.calls.includes("reap 20"), "the owned one never");
  t.match(s.lines.find((line) => line.event === "reaper"), { level: "debug", fields: { pid: 20 } });
});

t.test("one pass reaps at most 1000; the rest follow in the next turn", async (t) => {
  const s = setUp(t);
  for (let pid = 100; pid < 1600; pid++) s.addon.exit(pid, exitStatus(0));
  s.reaper.sweep();
  t.equal(s.reaper.reapedCount, 1000, "bounded, so signals are handled in between");
  await flush();
  t.equal(s.reaper.reapedCount, 1500);
  t.equal(s.quiet(), 1);
  t.same(s.reaped.slice(0, 2).map(([pid]) => pid), [100, 101], "in exit order");
});

t.test("without the addon: nothing is reaped; children are what /proc and Node's own show", async (t) => {
  const s = setUp(t, false);
  t.equal(s.reaper.canReap, false);
  s.system.isAnyDescendantAlive = true;
  s.reaper.sweep();
  t.equal(s.quiet(), 0);
  t.equal(s.reaper.hasChildren(), true);
  s.system.isAnyDescendantAlive = false;
  const child = s.system.spawnNodeChild(30);
  t.equal(s.reaper.hasChildren(), true, "a Node child counts");
  child.emit("exit");
  t.equal(s.reaper.hasChildren(), false);
  t.equal(s.quiet(), 1, "its exit's sweep told 'no children'");
  t.same(s.addon.calls, [], "the addon is never asked");
});

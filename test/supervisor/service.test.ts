// A service's life without a process: start → warming → running, exits and
// the restart policy's timers, shortages, pidfile following and stopping,
// over the fakes of test/helpers/fakes.ts (a fake clock, pretend processes).
import t, { type Test } from "tap";
import type { ServiceConfig } from "../../src/config/types.ts";
import type { Ending } from "../../src/pid1/exit-code.ts";
import { Service } from "../../src/supervisor/service.ts";
import { asReaper, FakeClock, FakeServiceSystem, recordingLog, serviceConfig, warmupConfig } from "../helpers/fakes.ts";

const SIGTERM = 15;
const SIGKILL = 9;

const configOf = serviceConfig;

// One service over a fresh fake system and clock; `states` lists each state it reported, in order.
const harness = (t: Test, overrides: Partial<ServiceConfig> = {}) => {
  const clock = new FakeClock().install();
  t.teardown(() => clock.uninstall());
  const { log, lines, messages } = recordingLog();
  const system = new FakeServiceSystem();
  const states: string[] = [];
  const endings: Ending[] = [];
  const warmupFailures: string[] = [];
  const run = { isStopping: false, isBooting: true };
  const service: Service = new Service(configOf(overrides), {
    native: undefined,
    reaper: asReaper(system.processes.reaper),
    log,
    shouldPrefixOutput: false,
    isStopping: () => run.isStopping,
    onChange: () => {
      if (states.at(-1) !== service.state) states.push(service.state);
    },
    onEndedForGood: (_service, ending) => endings.push(ending),
    onWarmupFailed: (_service, problem) => warmupFailures.push(problem),
    isBooting: () => run.isBooting,
    graceMs: 9000,
    system,
  });
  return { clock, log, lines, messages, system, states, endings, warmupFailures, run, service };
};

t.test("start without a warm-up: starting, then running; the marker is in its environment", async (t) => {
  const h = harness(t);
  h.service.start();
  await h.clock.advance(0);
  t.same(h.states, ["starting", "running"]);
  t.equal(await h.service.ready, true, "ready");
  t.equal(h.system.starts.length, 1);
  t.same(h.system.starts[0]!.argv, ["/bin/web"]);
  t.same(h.system.starts[0]!.env, { A: "1", BOXINIT_SERVICE: "web" }, "the marker comes last, over the config's env");
  t.same(h.service.snapshot(), { state: "running", pid: 100, restarts: 0, lastExit: null, readyAt: h.service.snapshot().readyAt });
  t.type(h.service.snapshot().readyAt, "string");
});

t.test("start with a warm-up: starting → warming → running once it passes", async (t) => {
  const h = harness(t, { warmup: warmupConfig() });
  let pass: () => void = () => {};
  h.system.warmups.push(() => new Promise((resolve) => {
    pass = () => resolve({ outcome: "ready", tries: 3, elapsedMs: 2000 });
  }));
  h.service.start();
  await h.clock.advance(0);
  t.same(h.states, ["starting", "warming"], "warming while the checks run");
  t.equal(h.system.warmupCalls.length, 1);
  t.equal(h.system.warmupCalls[0]!.env?.BOXINIT_SERVICE, undefined, "checks run in the service's environment, without the marker");
  t.equal(h.system.warmupCalls[0]!.env?.A, "1");
  pass();
  await h.clock.advance(0);
  t.same(h.states, ["starting", "warming", "running"]);
  t.equal(await h.service.ready, true);
});

t.test("a warm-up that times out during boot fails the boot; on_timeout: continue runs it anyway", async (t) => {
  const warmup = warmupConfig();
  const failing = harness(t, { warmup });
  failing.system.warmups.push({ outcome: "timeout", tries: 60, lastProblem: "connection refused" });
  failing.service.start();
  await failing.clock.advance(0);
  t.same(failing.warmupFailures, ["warm-up did not pass within 60s (60 tries; last: connection refused)"]);
  t.equal(failing.service.state, "warming", "the run decides what happens next (it stops the box)");
  failing.clock.uninstall();

  const continuing = harness(t, { warmup: warmupConfig({ onTimeout: "continue" }) });
  continuing.system.warmups.push({ outcome: "timeout", tries: 60, lastProblem: "connection refused" });
  continuing.service.start();
  await continuing.clock.advance(0);
  t.same(continuing.states, ["starting", "warming", "running"]);
  t.match(continuing.lines.find((line) => line.event === "warmup"), { level: "warn", message: /on_timeout: continue/ });
});

t.test("restart: on-failure: the delay doubles for each restart in a row; status counts restarts done", async (t) => {
  const h = harness(t, { restart: "on-failure" });
  h.service.start();
  await h.clock.advance(0);
  h.system.processes.get(100)!.end({ code: 3, signal: null });
  await h.clock.advance(0);
  t.equal(h.service.state, "restarting");
  t.match(h.service.snapshot(), { restarts: 0, pid: null, lastExit: { code: 3, signal: null } });
  t.match(h.lines.at(-1), { level: "warn", event: "service-exited", message: "service web exited with code 3; restarting in 1s", fields: { restart: 1 } });
  await h.clock.advance(999);
  t.equal(h.system.starts.length, 1, "not before its delay");
  await h.clock.advance(1);
  t.equal(h.system.starts.length, 2, "restarted after 1 s");
  t.equal(h.service.state, "running");
  t.equal(h.service.snapshot().restarts, 1);

  h.system.processes.get(101)!.end({ code: null, signal: SIGKILL });
  await h.clock.advance(0);
  t.match(h.service.snapshot().lastExit, { code: null, signal: "SIGKILL" });
  await h.clock.advance(1999);
  t.equal(h.system.starts.length, 2, "the second restart in a row waits twice as long");
  await h.clock.advance(1);
  t.equal(h.system.starts.length, 3);
  t.same(h.states, ["starting", "running", "restarting", "starting", "running", "restarting", "starting", "running"]);
});

t.test("a run of stable_after resets the series: the delay starts over", async (t) => {
  const h = harness(t, { restart: "always", stableAfterMs: 5000 });
  h.service.start();
  await h.clock.advance(0);
  h.system.processes.get(100)!.end({ code: 1, signal: null });
  await h.clock.advance(1000);
  t.equal(h.system.starts.length, 2);
  await h.clock.advance(5000); // the second run lasts stable_after
  h.system.processes.get(101)!.end({ code: 1, signal: null });
  await h.clock.advance(0);
  t.match(h.lines.at(-1), { message: "service web exited with code 1; restarting in 1s" }, "1 s again, not 2 s");
});

t.test("max_restarts: it gives up, naming the first failure of the series", async (t) => {
  const h = harness(t, { restart: "always", maxRestarts: 1 });
  h.service.start();
  await h.clock.advance(0);
  h.system.processes.get(100)!.end({ code: 3, signal: null });
  await h.clock.advance(1000);
  h.system.processes.get(101)!.end({ code: 4, signal: null });
  await h.clock.advance(0);
  t.equal(h.service.state, "failed");
  t.same(h.endings, [{ code: 4, signal: null }], "the run hears of its end for good once");
  const last = h.lines.at(-1)!;
  t.equal(last.level, "error");
  t.match(last.message, /^service web: exited with code 4 after 1 restarts in a row \(max_restarts: 1; .*\); giving up \(the first failure of this series: exited with code 3\)$/);
  t.equal(last.fields.code, 4);
  await h.clock.advance(60_000);
  t.equal(h.system.starts.length, 2, "no restart after giving up");
});

t.test("restart: no and a clean exit: exited, ready false when it never came up", async (t) => {
  const h = harness(t, { warmup: warmupConfig() });
  h.system.warmups.push((options) => new Promise((resolve) => options.signal.addEventListener("abort", () => resolve({ outcome: "aborted" }))));
  h.service.start();
  await h.clock.advance(0);
  h.system.processes.get(100)!.end({ code: 0, signal: null });
  await h.clock.advance(0);
  t.equal(h.service.state, "exited");
  t.equal(await h.service.ready, false);
  t.match(h.lines.at(-1), { level: "info", message: "service web: exited with code 0; restart: no" });
});

t.test("a command that cannot be run at all: failed at once, whatever the policy", async (t) => {
  const h = harness(t, { restart: "always" });
  h.system.steps.push({ problem: '"/bin/web": not found', exitCode: 127, kind: "command" });
  h.service.start();
  await h.clock.advance(0);
  t.equal(h.service.state, "failed");
  t.same(h.endings, [{ code: 127, signal: null }]);
  t.match(h.messages(), ['service web: cannot start "/bin/web": not found', /^service web: exited with code 127: it cannot be run at all; giving up/]);
});

t.test("a shortage of boxinit's own resources: not the service's failure, tried again with a growing delay", async (t) => {
  const h = harness(t, { restart: "no" });
  const shortage = { problem: "its output pipes: out of file descriptors (EMFILE)", exitCode: 71, kind: "resources" as const };
  h.system.steps.push(shortage, shortage);
  h.service.start();
  await h.clock.advance(0);
  t.equal(h.service.state, "restarting", "shown as restarting, despite restart: no");
  t.match(h.lines.at(-1), { event: "spawn-deferred", fields: { attempt: 1 }, message: /trying again in 1s$/ });
  await h.clock.advance(1000);
  t.match(h.lines.at(-1), { event: "spawn-deferred", fields: { attempt: 2 }, message: /trying again in 2s$/ });
  await h.clock.advance(1999);
  t.equal(h.service.state, "restarting");
  await h.clock.advance(1);
  t.equal(h.service.state, "running");
  t.equal(h.service.snapshot().restarts, 0, "nothing ran: no restart counted");
  t.equal(h.system.starts.length, 3);
});

t.test("stop: the stop signal to its group, then stopped", async (t) => {
  const h = harness(t);
  h.service.start();
  await h.clock.advance(0);
  const outcome = await h.clock.until(h.service.stop(h.clock.now() + 5000));
  t.same(outcome, { killed: [] });
  t.same(h.system.processes.sent, ["group 100 15"]);
  t.same(h.states, ["starting", "running", "stopping", "stopped"]);
  t.match(h.service.snapshot(), { pid: null, lastExit: { code: null, signal: "SIGTERM" } });
  t.match(h.messages().slice(-2), ["sent SIGTERM to service web", "service web stopped"]);
  t.equal(h.endings.length, 0, "a stop is not an end for good to report");
});

t.test("stop: a service that ignores its stop signal gets SIGKILL at the deadline", async (t) => {
  const h = harness(t);
  h.system.steps.push(() => {});
  h.service.start();
  await h.clock.advance(0);
  h.system.processes.get(100)!.ignores.add(SIGTERM);
  const stopping = h.service.stop(h.clock.now() + 5000);
  await h.clock.advance(4999);
  t.same(h.system.processes.sent, ["group 100 15"], "nothing more before the deadline");
  await h.clock.advance(1);
  const outcome = await stopping;
  t.same(h.system.processes.sent, ["group 100 15", "group 100 9"]);
  t.same(outcome.killed.map((entry) => entry.pid), [100]);
  t.match(h.lines.find((line) => line.event === "phase-overran"), { message: "service web did not stop in time", fields: { phase: "services" } });
  t.equal(h.service.state, "stopped");
});

t.test("stop: the stop command first; no stop signal when it stopped the service", async (t) => {
  const h = harness(t, { stop: ["/bin/web-stop"] });
  h.service.start();
  await h.clock.advance(0);
  h.system.steps.push((stopper) => {
    h.system.processes.get(100)!.end({ code: 0, signal: null });
    stopper.end({ code: 0, signal: null });
  });
  const outcome = await h.clock.until(h.service.stop(h.clock.now() + 5000));
  t.same(h.system.starts.map((start) => start.argv), [["/bin/web"], ["/bin/web-stop"]]);
  t.same(h.system.processes.sent, [], "no signal at all");
  t.same(outcome, { stopCode: 0, killed: [] });
  t.match(h.service.snapshot().lastExit, { code: 0 });
});

t.test("stop: a stop command that only asks is followed by the stop signal", async (t) => {
  const h = harness(t, { stop: ["/bin/web-stop"] });
  h.service.start();
  await h.clock.advance(0);
  h.system.steps.push((stopper) => stopper.end({ code: 2, signal: null }));
  const outcome = await h.clock.until(h.service.stop(h.clock.now() + 5000));
  t.same(h.system.processes.sent, ["group 100 15"]);
  t.equal(outcome.stopCode, 2);
  t.match(h.messages(), ["started service web", "running the stop command of service web", "the stop command of service web exited with code 2", "sent SIGTERM to service web", "service web stopped"]);
});

t.test("stop while a restart is pending: stopped at once, the restart never comes", async (t) => {
  const h = harness(t, { restart: "always" });
  h.service.start();
  await h.clock.advance(0);
  h.system.processes.get(100)!.end({ code: 1, signal: null });
  await h.clock.advance(0);
  t.equal(h.service.state, "restarting");
  h.run.isStopping = true;
  t.same(await h.service.stop(h.clock.now() + 5000), { killed: [] });
  t.equal(h.service.state, "stopped");
  await h.clock.advance(10_000);
  t.equal(h.system.starts.length, 1, "no start after the stop");
});

t.test("forwardSignal goes to the service's group, and nowhere once it ended", async (t) => {
  const h = harness(t, { restart: "no" });
  h.system.steps.push((proc) => proc.ignores.add(10));
  h.service.start();
  await h.clock.advance(0);
  h.service.forwardSignal(10);
  t.same(h.system.processes.sent, ["group 100 10"]);
  h.system.processes.get(100)!.end({ code: 0, signal: null });
  await h.clock.advance(0);
  h.service.forwardSignal(10);
  t.same(h.system.processes.sent, ["group 100 10"], "nothing sent after its end");
});

t.test("pidfile: the start command exits 0, the daemon named by the pidfile is followed to its end", async (t) => {
  const h = harness(t, { pidfile: "/run/web.pid", restart: "on-failure" });
  h.system.steps.push((starter) => {
    h.system.processes.spawn(200, { pgid: 200, comm: "webd" });
    setTimeout(() => starter.end({ code: 0, signal: null }), 50);
  });
  h.system.pidfileResults.push({ pid: 200 });
  h.service.start();
  await h.clock.advance(0);
  t.equal(h.service.snapshot().pid, 100, "the start command is followed while it runs");
  await h.clock.advance(50);
  t.equal(h.service.state, "running");
  t.equal(h.service.snapshot().pid, 200, "then the daemon");
  t.match(h.messages(), ["started service web", "service web: following pid 200 from /run/web.pid"]);
  h.service.forwardSignal(1);
  t.same(h.system.processes.sent.at(-1), "group 200 1", "signals go to the daemon's group");
  h.system.processes.get(200)!.end({ code: 1, signal: null });
  await h.clock.advance(0);
  t.equal(h.service.state, "restarting", "its end goes to the restart policy");
});

t.test("pidfile: a pid that cannot be trusted is not followed; the failed start's leftovers are stopped", async (t) => {
  const h = harness(t, { pidfile: "/run/web.pid" });
  h.system.steps.push((starter) => starter.end({ code: 0, signal: null }));
  h.system.pidfileResults.push({ pid: 1 });
  h.system.refusals.set(1, "it names boxinit itself (pid 1)");
  h.service.start();
  await h.clock.advance(0);
  t.equal(h.service.state, "failed");
  t.match(h.lines.find((line) => line.event === "pidfile"), { level: "error", message: "service web: pidfile /run/web.pid cannot be followed: it names boxinit itself (pid 1)" });
  t.same(h.system.leftoverStops.map((stop) => [stop.trace, stop.signal]), [[{ starterPid: 100, service: "web" }, SIGTERM]], "its leftovers stopped first, with its stop signal");
  t.equal(h.system.leftoverStops[0]!.deadlineAt, 1_000_000 + 9000, "within the grace period");
  t.match(h.service.snapshot().lastExit, { code: 69 });
});

t.test("pidfile: a start command that does not exit within pidfile_timeout fails the start; it is the leftover followed", async (t) => {
  const h = harness(t, { pidfile: "/run/web.pid", pidfileTimeoutMs: 10_000 });
  h.service.start();
  await h.clock.advance(9999);
  t.equal(h.service.state, "starting");
  await h.clock.advance(1);
  t.equal(h.service.state, "failed");
  t.match(h.lines.find((line) => line.event === "pidfile")?.message, /the start command did not exit within pidfile_timeout \(10s\)/);
  t.same(h.system.leftoverStops.map((stop) => stop.trace), [{ starterPid: 100, service: "web", followedPid: 100 }]);
});

t.test("pidfile: a daemon that died before its pidfile was read reports its real ending", async (t) => {
  const h = harness(t, { pidfile: "/run/web.pid", restart: "on-failure" });
  const daemon = h.system.processes.spawn(200);
  h.system.steps.push((starter) => starter.end({ code: 0, signal: null }));
  // It dies (and is reaped) while the pidfile is waited for.
  h.system.pidfileResults.push(async () => {
    daemon.end({ code: 7, signal: null });
    return { pid: 200 };
  });
  h.system.refusals.set(200, "pid 200 is not a process started by this service (not a descendant of boxinit)");
  h.service.start();
  await h.clock.advance(0);
  t.match(h.service.snapshot().lastExit, { code: 7 }, "its own ending, not an unknown one");
  t.equal(h.service.state, "restarting");
  t.notOk(h.lines.some((line) => line.message.includes("cannot be followed")), "a pid reaped meanwhile is not checked against /proc (it is gone from there)");
});

t.test("stop during the start command (boot interrupted): the start command's group is stopped", async (t) => {
  const h = harness(t, { pidfile: "/run/web.pid" });
  h.service.start();
  await h.clock.advance(0);
  const outcome = await h.clock.until(h.service.stop(h.clock.now() + 5000));
  t.same(h.system.processes.sent, ["group 100 15"]);
  t.same(outcome, { killed: [] });
  t.equal(h.service.state, "stopped");
});

t.test("a restart's warm-up that times out after boot: its leftovers are stopped, then the policy decides", async (t) => {
  const warmup = warmupConfig();
  const h = harness(t, { warmup, restart: "always" });
  h.run.isBooting = false;
  h.system.warmups.push({ outcome: "timeout", tries: 3, lastProblem: "HTTP 503" });
  h.service.start();
  await h.clock.advance(0);
  t.same(h.warmupFailures, [], "not a boot failure");
  t.same(h.system.leftoverStops.map((stop) => stop.trace), [{ starterPid: 100, service: "web", followedPid: 100 }]);
  t.equal(h.service.state, "restarting");
  t.match(h.lines.find((line) => line.event === "service-exited")?.message, "service web exited with code 69; restarting in 1s");
});

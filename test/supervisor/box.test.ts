// The Mini-VM box without a process: its state along box-states.ts's table,
// running ⇄ degraded following its critical services after the boot, and
// what it publishes (status, status.json in a temporary state directory):
// its own moves at once, service changes once at the end of the turn and at
// most once per PUBLISH_INTERVAL_MS.
import t, { type Test } from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServiceConfig } from "../../src/config/types.ts";
import { Box, PUBLISH_INTERVAL_MS } from "../../src/supervisor/box.ts";
import { Service } from "../../src/supervisor/service.ts";
import { asReaper, FakeClock, FakeServiceSystem, flush, recordingLog, serviceConfig, warmupConfig } from "../helpers/fakes.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const setUp = (t: Test) => {
  const clock = new FakeClock().install();
  const stateDir = tempDir(t);
  const { log, lines } = recordingLog();
  const run = { isStopping: false };
  const box = new Box({ stateDir, backoffFile: join(stateDir, "backoff"), heartbeatMs: 30_000, backoffWatch: "poll", backoffPollMs: 1000 }, undefined, log, () => run.isStopping);
  t.teardown(async () => {
    await box.close();
    clock.uninstall();
  });
  const system = new FakeServiceSystem();
  // A service of the box, told of the box as modes/mini-vm.ts tells it.
  const add = (overrides: Partial<ServiceConfig>): Service => {
    const service = new Service(serviceConfig(overrides), {
      native: undefined, reaper: asReaper(system.processes.reaper), log, shouldPrefixOutput: false, system, graceMs: 9000,
      isStopping: () => run.isStopping,
      onChange: () => box.onServiceChange(),
      onEndedForGood: () => {},
      onWarmupFailed: () => {},
      isBooting: () => box.state === "starting" || box.state === "warming",
    });
    box.services.push(service);
    return service;
  };
  const word = (): string => readFileSync(join(stateDir, "status"), "utf8");
  const document = (): Record<string, any> => JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8"));
  return { clock, lines, run, box, system, add, word, document };
};

t.test("publishNow: the word and the document, with each service's part", async (t) => {
  const s = setUp(t);
  s.add({ name: "db" });
  s.box.publishNow();
  t.equal(s.word(), "starting\n");
  t.match(s.document(), {
    schemaVersion: 1, state: "starting", pid: process.pid, backoff: false, heartbeatMs: 30_000,
    services: { db: { state: "pending", pid: null, restarts: 0, lastExit: null, readyAt: null } },
    jobs: {},
  });
  t.notOk("exitCode" in s.document(), "no exit code before there is one");
});

t.test("the boot: a service warming moves the box to warming; the box's own moves are written at once", async (t) => {
  const s = setUp(t);
  const db = s.add({ name: "db", warmup: warmupConfig() });
  let pass: () => void = () => {};
  s.system.warmups.push(() => new Promise((resolve) => {
    pass = () => resolve({ outcome: "ready", tries: 1, elapsedMs: 0 });
  }));
  s.box.publishNow();
  db.start();
  t.equal(s.box.state, "warming", "moved in the same turn");
  await flush();
  t.equal(s.word(), "starting\n", "warming comes with a service's change, written PUBLISH_INTERVAL_MS later");
  await s.clock.advance(PUBLISH_INTERVAL_MS);
  t.equal(s.box.state, "warming");
  t.equal(s.word(), "warming\n");
  t.match(s.document().services.db, { state: "warming", pid: 100 });
  pass();
  await flush();
  t.equal(s.box.state, "warming", "running is the run's to say, once the whole boot is over");
  // The warm-up passed in the same instant as the last write: its change waits for the interval.
  await s.clock.advance(PUBLISH_INTERVAL_MS);
  t.match(s.document().services.db, { state: "running" });
  s.box.move("running");
  t.equal(s.word(), "running\n", "written in the same turn");
  t.match(s.lines.filter((line) => line.event === "state").map((line) => line.message), ["state warming", "state running"]);
});

t.test("a warm-up over within PUBLISH_INTERVAL_MS: starting, then running, never warming on disk", async (t) => {
  const s = setUp(t);
  const db = s.add({ name: "db", warmup: warmupConfig() });
  s.system.warmups.push(() => Promise.resolve({ outcome: "ready", tries: 1, elapsedMs: 0 }));
  s.box.publishNow();
  db.start();
  await flush();
  t.equal(db.state, "running", "the warm-up passed");
  t.equal(s.word(), "starting\n", "warming not written yet");
  s.box.move("running");
  t.equal(s.word(), "running\n");
  await s.clock.advance(PUBLISH_INTERVAL_MS);
  t.equal(s.word(), "running\n", "the warming write was dropped, not made late over running");
  t.match(s.document().services.db, { state: "running" });
});

t.test("after the boot a critical service on its way back makes the box degraded, and running once it is back", async (t) => {
  const s = setUp(t);
  const db = s.add({ name: "db", restart: "always" });
  const cache = s.add({ name: "cache", restart: "always", critical: false });
  db.start();
  cache.start();
  await flush();
  s.box.move("running");
  s.system.processes.get(101)!.end({ code: 1, signal: null }); // cache: not critical
  await flush();
  t.equal(s.box.state, "running", "a non-critical service does not degrade the box");
  s.system.processes.get(100)!.end({ code: 1, signal: null }); // db
  await flush();
  t.equal(s.box.state, "degraded");
  t.equal(s.word(), "degraded\n");
  t.match(s.lines.find((line) => line.message === "state degraded"), { fields: { down: ["db (restarting)"] } });
  await s.clock.advance(1000);
  t.equal(db.state, "running");
  t.equal(s.box.state, "running");
  t.match(s.document(), { state: "running", services: { db: { state: "running", restarts: 1, lastExit: { code: 1 } }, cache: { restarts: 1 } } });
});

t.test("while stopping, running ⇄ degraded no longer follows the services", async (t) => {
  const s = setUp(t);
  const db = s.add({ name: "db", restart: "always" });
  db.start();
  await flush();
  s.box.move("running");
  s.run.isStopping = true;
  s.system.processes.get(100)!.end({ code: 1, signal: null });
  await flush();
  t.equal(s.box.settleBooted(), false);
  t.equal(s.box.state, "running");
});

t.test("a move outside the table is logged as a bug and changes nothing", async (t) => {
  const s = setUp(t);
  s.box.move("stopped");
  t.equal(s.box.state, "starting");
  t.match(s.lines, [{ level: "error", event: "internal-error", message: "bug: state change not in the table", fields: { from: "starting", to: "stopped" } }]);
});

t.test("service changes are coalesced: written at the end of the turn, not at each change", async (t) => {
  const s = setUp(t);
  // Not critical: a critical one starting after the boot would degrade the box, a move written at once.
  const db = s.add({ name: "db", critical: false });
  s.box.move("running");
  db.start(); // starting, then running, in this same turn
  t.match(s.document().services.db, { state: "pending" }, "nothing written yet");
  await flush();
  t.match(s.document().services.db, { state: "running", pid: 100 }, "the last word, written once the turn is over");
});

t.test("the exit code is written with the final state", async (t) => {
  const s = setUp(t);
  s.box.move("stopping");
  s.box.exitCode = 143;
  s.box.move("stopped");
  t.match(s.document(), { state: "stopped", exitCode: 143 });
  t.equal(s.word(), "stopped\n");
});

t.test("a burst of service changes: the first at the end of its turn, the rest at most once per interval, the last always", async (t) => {
  const s = setUp(t);
  const [a, b, c] = ["a", "b", "c"].map((name) => s.add({ name, critical: false }));
  s.box.move("running");
  a!.start();
  await flush();
  t.match(s.document().services, { a: { state: "running" }, b: { state: "pending" } }, "after a quiet spell: written at the end of the turn");
  b!.start();
  await flush();
  t.match(s.document().services.b, { state: "pending" }, "a change right after a write waits");
  t.same(s.clock.pendingInMs(), [PUBLISH_INTERVAL_MS], "for the rest of the interval");
  c!.start();
  await flush();
  t.same(s.clock.pendingInMs(), [PUBLISH_INTERVAL_MS], "one write waits, however many changes come");
  await s.clock.advance(PUBLISH_INTERVAL_MS - 1);
  t.match(s.document().services.c, { state: "pending" }, "not before the interval is over");
  await s.clock.advance(1);
  t.match(s.document().services, { a: { state: "running" }, b: { state: "running" }, c: { state: "running" } }, "both changes, in one write");
  t.same(s.clock.pendingInMs(), [], "nothing left to write");
});

t.test("a change waiting for the interval: the box's own move writes it at once; close() writes one still waiting", async (t) => {
  const s = setUp(t);
  const [a, b, c] = ["a", "b", "c"].map((name) => s.add({ name, critical: false }));
  s.box.move("running");
  a!.start();
  await flush();
  b!.start();
  await flush();
  t.same(s.clock.pendingInMs(), [PUBLISH_INTERVAL_MS]);
  s.box.move("stopping");
  t.match(s.document(), { state: "stopping", services: { b: { state: "running" } } }, "the move wrote the waiting change too");
  t.same(s.clock.pendingInMs(), [], "and the wait is dropped");
  await s.clock.advance(1);
  c!.start();
  await flush();
  t.match(s.document().services.c, { state: "pending" }, "waiting: the last coalesced write was 1 ms ago");
  await s.box.close();
  t.match(s.document(), { state: "stopping", services: { c: { state: "running" } } }, "written by close(), not lost at exit");
  t.same(s.clock.pendingInMs(), []);
});

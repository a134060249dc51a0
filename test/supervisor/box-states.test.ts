import t from "tap";
import { BOX_TRANSITIONS, bootedBoxState, canMoveBox, finalOutcome, type BoxState } from "../../src/supervisor/box-states.ts";

const clean = { stopCodes: [], hasKilled: false };

t.test("the lifecycle table", async (t) => {
  t.ok(canMoveBox("starting", "warming"));
  t.ok(canMoveBox("warming", "running"));
  t.ok(canMoveBox("running", "stopping"));
  t.ok(canMoveBox("stopping", "backedoff"));
  t.ok(canMoveBox("starting", "backedoff"), "backoff engaged at start");
  t.notOk(canMoveBox("running", "starting"), "no way back");
  t.notOk(canMoveBox("stopped", "running"), "final states are final");
  for (const final of ["stopped", "failed"] as const) t.same(BOX_TRANSITIONS[final], [], final);
  t.same(BOX_TRANSITIONS.backedoff, ["starting", "failed"], "idle backoff: boot again on release, or fail on a fault");
  t.notOk(canMoveBox("backedoff", "running"), "released: a new boot, never straight to running");
});

t.test("degraded: only a booted box, back and forth with running, and out to stopping", async (t) => {
  t.ok(canMoveBox("running", "degraded"));
  t.ok(canMoveBox("degraded", "running"), "the critical service is back");
  t.ok(canMoveBox("degraded", "stopping"), "a stop (signal, backoff, the service giving up) while degraded");
  t.notOk(canMoveBox("starting", "degraded"), "not booted yet: a service coming back is part of the boot");
  t.notOk(canMoveBox("warming", "degraded"));
  t.notOk(canMoveBox("degraded", "warming"), "a restart's warm-up does not make the box warm up again");
  t.notOk(canMoveBox("degraded", "stopped"), "every final state goes through stopping");
  t.notOk(canMoveBox("stopping", "degraded"));
  t.same(BOX_TRANSITIONS.degraded, ["running", "stopping"]);
});

t.test("bootedBoxState: a critical service on its way back degrades a booted box", async (t) => {
  const critical = (state: string) => ({ state, isCritical: true });
  const other = (state: string) => ({ state, isCritical: false });
  const cases: Array<[string, BoxState, Array<{ state: string; isCritical: boolean }>, BoxState]> = [
    ["all up", "running", [critical("running"), other("running")], "running"],
    ["the critical one waits for its restart", "running", [critical("restarting")], "degraded"],
    ["the critical one is started again", "degraded", [critical("starting")], "degraded"],
    ["the critical one warms up again", "degraded", [critical("warming")], "degraded"],
    ["the critical one is back", "degraded", [critical("running"), other("running")], "running"],
    ["one of two critical ones is still down", "degraded", [critical("running"), critical("restarting")], "degraded"],
    ["a non-critical one restarting does not degrade", "running", [critical("running"), other("restarting")], "running"],
    ["a non-critical one that ended for good does not either", "running", [critical("running"), other("failed")], "running"],
    ["a critical one that ended for good stops the box instead", "running", [critical("failed")], "running"],
    ["no critical service at all (main command mode)", "running", [other("restarting")], "running"],
    ["before the boot ends: starting stays", "starting", [critical("restarting")], "starting"],
    ["before the boot ends: warming stays", "warming", [critical("restarting")], "warming"],
    ["once stopping, nothing comes back", "stopping", [critical("restarting")], "stopping"],
    ["a final state stays", "failed", [critical("running")], "failed"],
  ];
  for (const [name, current, services, expected] of cases) t.equal(bootedBoxState(current, services), expected, name);
  for (const [, current, services] of cases) {
    const next = bootedBoxState(current, services);
    t.ok(canMoveBox(current, next), `${current} → ${next} is in the table`);
  }
});

t.test("a requested stop exits with the stop commands' result", async (t) => {
  t.same(finalOutcome({ kind: "backoff" }, clean), { state: "backedoff", code: 0 });
  t.same(finalOutcome({ kind: "backoff" }, { stopCodes: [0, 3, 4], hasKilled: false }), { state: "backedoff", code: 3 }, "first non-zero");
  t.same(finalOutcome({ kind: "backoff" }, { stopCodes: [0], hasKilled: true }), { state: "backedoff", code: 137 }, "killed at the deadline");
  t.same(finalOutcome({ kind: "signal", signal: 15 }, clean), { state: "stopped", code: 0 });
});

t.test("with a main command, a signal stop exits with its code (as tini)", async (t) => {
  t.same(finalOutcome({ kind: "signal", signal: 15 }, { ...clean, mainEnding: { code: null, signal: 15 } }), { state: "stopped", code: 143 });
  t.same(finalOutcome({ kind: "main-ended", ending: { code: 7, signal: null } }, clean), { state: "stopped", code: 7 });
});

t.test("a critical service's end, a failed boot, a fault", async (t) => {
  t.same(finalOutcome({ kind: "critical", service: "web", ending: { code: 5, signal: null } }, clean), { state: "failed", code: 5 });
  t.same(finalOutcome({ kind: "critical", service: "web", ending: { code: 0, signal: null } }, clean), { state: "stopped", code: 0 });
  t.same(finalOutcome({ kind: "critical", service: "web", ending: { code: null, signal: 9 } }, clean), { state: "failed", code: 137 });
  t.same(finalOutcome({ kind: "boot-failed", code: 4, why: "init" }, { stopCodes: [1], hasKilled: true }), { state: "failed", code: 4 });
  t.same(finalOutcome({ kind: "fault" }, clean), { state: "failed", code: 70 });
});

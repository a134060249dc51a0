import t from "tap";
import { BOX_TRANSITIONS, canMoveBox, finalOutcome } from "../../src/supervisor/box-states.ts";

const clean = { stopCodes: [], hasKilled: false };

t.test("the lifecycle table", async (t) => {
  t.ok(canMoveBox("starting", "warming"));
  t.ok(canMoveBox("warming", "running"));
  t.ok(canMoveBox("running", "stopping"));
  t.ok(canMoveBox("stopping", "backedoff"));
  t.ok(canMoveBox("starting", "backedoff"), "backoff engaged at start");
  t.notOk(canMoveBox("running", "starting"), "no way back");
  t.notOk(canMoveBox("stopped", "running"), "final states are final");
  for (const final of ["stopped", "backedoff", "failed"] as const) t.same(BOX_TRANSITIONS[final], [], final);
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

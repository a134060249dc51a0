// The probe server's verdicts from the box's state in memory: ready only in
// `running`, live while PID 1 manages the box (idle backoff included), and
// the same answer as `boxinit health` gives on a fresh status.json.
import t from "tap";
import { probeAnswer, probeBody, type ProbeQuestion } from "../../src/control/probe-server-verdict.ts";
import { judgeHealth } from "../../src/control/health-verdict.ts";
import type { BoxState } from "../../src/control/status-file.ts";

const STATES: readonly BoxState[] = ["starting", "warming", "running", "degraded", "stopping", "stopped", "backedoff", "failed"];
const QUESTIONS: readonly ProbeQuestion[] = ["live", "ready"];

t.test("ready only in running; live while PID 1 manages the box", async (t) => {
  const ready = STATES.filter((state) => probeAnswer("ready", { state }).ok);
  const live = STATES.filter((state) => probeAnswer("live", { state }).ok);
  t.same(ready, ["running"]);
  t.same(live, ["starting", "warming", "running", "degraded", "stopping", "backedoff"]);
});

t.test("an exit code known means PID 1 is ending: not live, even in backedoff", async (t) => {
  const verdict = probeAnswer("live", { state: "backedoff", exitCode: 0 });
  t.equal(verdict.ok, false);
  t.match(verdict.why, /boxinit has ended: state backedoff, exit code 0/);
  t.equal(probeAnswer("live", { state: "backedoff" }).ok, true, "idle backoff: no exit code, live");
});

t.test("the same verdict as boxinit health on a status.json written just now", async (t) => {
  const nowMs = Date.parse("2026-12-02T10:00:00Z");
  for (const state of STATES) {
    for (const exitCode of [undefined, 0]) {
      for (const question of QUESTIONS) {
        const document = { state, exitCode, updatedAt: new Date(nowMs).toISOString() };
        t.equal(probeAnswer(question, { state, exitCode }).ok, judgeHealth(question, document, nowMs).isHealthy, `${question} in ${state}, exit code ${exitCode}`);
      }
    }
  }
});

t.test("wording: the state when ok, why not otherwise, with the services on their way back", async (t) => {
  t.same(probeAnswer("ready", { state: "running" }), { ok: true, why: "running" });
  t.same(probeAnswer("live", { state: "degraded" }), { ok: true, why: "degraded" });
  const degraded = probeAnswer("ready", { state: "degraded", services: { app: { state: "restarting" }, shipper: { state: "running" } } });
  t.same(degraded, { ok: false, why: "state is degraded, not running: down: app (restarting)" });
  t.equal(probeBody("ready", degraded), "not ready: state is degraded, not running: down: app (restarting)\n");
  t.equal(probeBody("live", { ok: true, why: "running" }), "live: running\n");
});

t.test("a body is always one line", async (t) => {
  const body = probeBody("ready", { ok: false, why: "line one\nline two\r\n" });
  t.equal(body, "not ready: line one line two \n");
  t.equal(body.split("\n").length, 2);
  const hostile = probeAnswer("ready", { state: "odd\nstate" });
  t.notMatch(probeBody("ready", hostile).slice(0, -1), /\n/);
});

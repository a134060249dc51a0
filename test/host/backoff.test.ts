import t from "tap";
import { DEFAULT_BACKOFF_WAIT_MS, judgeProgress } from "../../src/host/backoff.ts";

t.test("backedoff in status.json is the end of the wait, whatever the container", async (t) => {
  t.equal(judgeProgress("backedoff", { isRunning: true }), "backedoff", "still running: boxinit is exiting");
  t.equal(judgeProgress("backedoff", { isRunning: false }), "backedoff");
  t.equal(judgeProgress("backedoff", undefined), "backedoff", "already removed");
});

t.test("no container: nothing to wait for", async (t) => {
  t.equal(judgeProgress(undefined, undefined), "no-container");
  t.equal(judgeProgress("running", undefined), "no-container", "a leftover status.json does not make a container");
});

t.test("a container that stopped without writing backedoff", async (t) => {
  for (const state of ["stopped", "failed", "running", "stopping", undefined]) {
    t.equal(judgeProgress(state, { isRunning: false }), "stopped-otherwise", String(state));
  }
});

t.test("a running container not backed off yet: keep waiting", async (t) => {
  for (const state of ["starting", "warming", "running", "stopping", undefined]) {
    t.equal(judgeProgress(state, { isRunning: true }), "stopping", String(state));
  }
});

t.test("only the exact state backedoff counts", async (t) => {
  for (const state of ["Backedoff", "backedoff ", "backed-off", ""]) {
    t.equal(judgeProgress(state, { isRunning: true }), "stopping", JSON.stringify(state));
  }
});

t.test("--wait waits two minutes by default", async (t) => {
  t.equal(DEFAULT_BACKOFF_WAIT_MS, 120_000);
});

// Whether a status.json's writer is done: an idle backoff (backedoff without an
// exitCode) is a PID 1 still up, so it is neither "ended" nor free to take over.
import t from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasEnded, isStale } from "../../src/control/status-read.ts";
import { liveOwnerOf } from "../../src/control/state-dir-owner.ts";

const NOW = Date.parse("2026-12-02T12:00:00Z");
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();

t.test("hasEnded: final states, except an idle backoff", async (t) => {
  t.ok(hasEnded({ state: "stopped", exitCode: 0 }));
  t.ok(hasEnded({ state: "failed", exitCode: 70 }));
  t.ok(hasEnded({ state: "backedoff", exitCode: 0 }), "backedoff with its exit code: PID 1 exited");
  t.notOk(hasEnded({ state: "backedoff" }), "backedoff without one: idle, PID 1 still up");
  t.notOk(hasEnded({ state: "running" }));
});

t.test("isStale: an idle backoff whose heartbeat stopped is stale; an exited one is not", async (t) => {
  t.ok(isStale({ state: "backedoff", updatedAt: at(200_000), heartbeatMs: 30_000 }, NOW));
  t.notOk(isStale({ state: "backedoff", exitCode: 0, updatedAt: at(200_000), heartbeatMs: 30_000 }, NOW));
  t.notOk(isStale({ state: "backedoff", updatedAt: at(1000), heartbeatMs: 30_000 }, NOW));
});

t.test("liveOwnerOf: an idle PID 1 owns its state directory; an exited one does not", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "boxinit-owner-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (document: object) => writeFileSync(join(dir, "status.json"), JSON.stringify(document));
  // pid 1: a container's PID 1 seen from outside its namespace, judged by its heartbeat alone.
  const pid = 1;
  write({ state: "backedoff", pid, updatedAt: at(1000), heartbeatMs: 30_000 });
  t.same(liveOwnerOf(dir, NOW), { pid, state: "backedoff" });
  write({ state: "backedoff", pid, exitCode: 0, updatedAt: at(1000), heartbeatMs: 30_000 });
  t.equal(liveOwnerOf(dir, NOW), undefined);
});

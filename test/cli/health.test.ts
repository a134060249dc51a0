import t from "tap";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { healthCommand } from "../../src/cli/health.ts";
import { captureIo, NOW, tempDir } from "../control/helpers.ts";

const statusAt = (t: { teardown(fn: () => void): void }, state: string, updatedAt: unknown): string => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "status.json"), JSON.stringify({ schemaVersion: 1, state, since: "2026-11-26T10:00:00.000Z", updatedAt, pid: 1, services: {} }));
  return dir;
};

const secondsBefore = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

t.test("healthy: running with a fresh heartbeat", async (t) => {
  const io = captureIo();
  t.equal(healthCommand([], statusAt(t, "running", secondsBefore(30)), io), 0);
  t.equal(io.out, "healthy: running, updated 30s ago\n");
  t.equal(healthCommand([], statusAt(t, "running", secondsBefore(90)), captureIo()), 0, "90 s is still fresh");
  t.equal(healthCommand([], statusAt(t, "running", new Date(NOW + 5000).toISOString()), captureIo()), 0, "a clock a little ahead is not stale");
});

t.test("unhealthy: exit 1 and why", async (t) => {
  const cases: Array<[string, string, unknown, RegExp]> = [
    ["warming", "warming", secondsBefore(1), /^unhealthy: state is warming, not running\n$/],
    ["starting", "starting", secondsBefore(1), /state is starting/],
    ["stopping", "stopping", secondsBefore(1), /state is stopping/],
    ["backedoff", "backedoff", secondsBefore(1), /state is backedoff/],
    ["stale", "running", secondsBefore(91), /^unhealthy: status is stale: updated 1m 31s ago, more than 1m 30s \(boxinit frozen or gone\?\)\n$/],
    ["no updatedAt", "running", undefined, /no valid updatedAt/],
    ["bad updatedAt", "running", "yesterday", /no valid updatedAt/],
  ];
  for (const [name, state, updatedAt, message] of cases) {
    const io = captureIo();
    t.equal(healthCommand([], statusAt(t, state, updatedAt), io), 1, name);
    t.match(io.out, message, name);
  }
  const missing = captureIo();
  const dir = tempDir(t);
  t.equal(healthCommand([], dir, missing), 1);
  t.equal(missing.out, `unhealthy: no status in ${dir} (is boxinit running with --state-dir ${dir}?)\n`);
  const torn = tempDir(t);
  writeFileSync(join(torn, "status.json"), "{");
  const invalid = captureIo();
  t.equal(healthCommand([], torn, invalid), 1);
  t.match(invalid.out, /^unhealthy: .*status\.json: not valid JSON/);
});

t.test("--max-age", async (t) => {
  const dir = statusAt(t, "running", secondsBefore(200));
  t.equal(healthCommand([], dir, captureIo()), 1);
  t.equal(healthCommand(["--max-age", "5m"], dir, captureIo()), 0);
  t.equal(healthCommand(["--max-age=4m"], dir, captureIo()), 0);
  const tight = captureIo();
  t.equal(healthCommand(["--max-age", "3m"], dir, tight), 1);
  t.match(tight.out, /more than 3m 0s/);
});

t.test("usage", async (t) => {
  for (const args of [["--max-age"], ["--max-age", "90"], ["--max-age", "soon"], ["--max-age=0s"], ["--verbose"]]) {
    const io = captureIo();
    t.equal(healthCommand(args, "/nonexistent", io), 2, JSON.stringify(args));
    t.match(io.err, /^boxinit health: .*\nusage: boxinit health \[--max-age DURATION\]/);
  }
  const help = captureIo();
  t.equal(healthCommand(["-h"], "/nonexistent", help), 0);
  t.match(help.out, /default 1m 30s/);
});

t.test("the default age limit follows the writer's own heartbeat (heartbeatMs in status.json)", async (t) => {
  const withHeartbeat = (heartbeatMs: number, updatedAt: string): string => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "status.json"), JSON.stringify({ schemaVersion: 1, state: "running", since: "2026-11-26T10:00:00.000Z", updatedAt, pid: 1, heartbeatMs, services: {} }));
    return dir;
  };
  t.equal(healthCommand([], withHeartbeat(120_000, secondsBefore(300)), captureIo()), 0, "5 min is fresh for a 2 min heartbeat");
  const io = captureIo();
  t.equal(healthCommand([], withHeartbeat(10_000, secondsBefore(31)), io), 1, "31 s is stale for a 10 s heartbeat");
  t.match(io.out, /more than 30s/);
  t.equal(healthCommand(["--max-age", "1h"], withHeartbeat(10_000, secondsBefore(31)), captureIo()), 0, "--max-age wins");
});

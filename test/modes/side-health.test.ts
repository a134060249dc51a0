import t from "tap";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { healthCommand } from "../../src/modes/side.ts";
import { captureIo, NOW } from "../helpers/command-io.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const statusAt = (t: { teardown(fn: () => void): void }, state: string, updatedAt: unknown, extra: Record<string, unknown> = {}): string => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "status.json"), JSON.stringify({ schemaVersion: 1, state, since: "2026-11-26T10:00:00.000Z", updatedAt, pid: 1, services: {}, ...extra }));
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
    ["degraded", "degraded", secondsBefore(1), /^unhealthy: state is degraded, not running\n$/],
    ["stale", "running", secondsBefore(91), /^unhealthy: status is stale: updated 1m 31s ago, more than 1m 30s \(boxinit frozen or gone\?\)\n$/],
    // A clock set back (or a hand-written file): "updated 0s ago" would pass for ever.
    ["from the future", "running", secondsBefore(-3600), /^unhealthy: status is stale: updatedAt is 1h 0m in the future \(the clock was set back since it was written, or boxinit did not write it\)/],
    ["just past the tolerance", "running", secondsBefore(-11), /updatedAt is 11s in the future/],
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
    t.match(io.err, /^boxinit health: .*\nusage: boxinit health \[--live \| --ready\] \[--max-age DURATION\]/);
  }
  const both = captureIo();
  t.equal(healthCommand(["--live", "--ready"], "/nonexistent", both), 2, "--live and --ready together");
  t.match(both.err, /^boxinit health: --live and --ready ask different questions: give one\n/);
  t.equal(healthCommand(["--ready", "--live"], "/nonexistent", captureIo()), 2, "in either order");
  t.equal(healthCommand(["--live", "--live"], statusAt(t, "running", secondsBefore(1)), captureIo()), 0, "the same one twice is no conflict");
  for (const args of [["--live=yes"], ["-l"], ["live"], ["--ready", "extra"]]) {
    t.equal(healthCommand(args, "/nonexistent", captureIo()), 2, JSON.stringify(args));
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

// Each state PID 1 writes (and two it never does), with a fresh heartbeat: [state, extra fields, --ready, --live].
const VERDICTS: Array<[string, Record<string, unknown>, number, number]> = [
  ["starting", {}, 1, 0],
  ["warming", {}, 1, 0],
  ["running", {}, 0, 0],
  ["degraded", {}, 1, 0],
  ["stopping", {}, 1, 0],
  ["stopped", { exitCode: 0 }, 1, 1],
  ["failed", { exitCode: 1 }, 1, 1],
  ["backedoff", { exitCode: 0, backoff: true }, 1, 1],
  ["backedoff", { backoff: true }, 1, 0],
  ["stopped", {}, 1, 1],
  ["paused", {}, 1, 1],
];

t.test("--ready (the default) and --live, state by state", async (t) => {
  for (const [state, extra, ready, live] of VERDICTS) {
    const dir = statusAt(t, state, secondsBefore(5), extra);
    const name = `${state}${Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : ""}`;
    t.equal(healthCommand([], dir, captureIo()), ready, `${name}: health`);
    t.equal(healthCommand(["--ready"], dir, captureIo()), ready, `${name}: health --ready`);
    t.equal(healthCommand(["--live"], dir, captureIo()), live, `${name}: health --live`);
  }
});

t.test("--live says why", async (t) => {
  const cases: Array<[string, string, Record<string, unknown>, string]> = [
    ["degraded", "degraded", {}, "live: degraded, updated 5s ago\n"],
    ["booting", "warming", {}, "live: warming, updated 5s ago\n"],
    ["an idle backoff (no exit code: PID 1 is still up)", "backedoff", { backoff: true }, "live: backedoff, updated 5s ago\n"],
    ["failed", "failed", { exitCode: 3 }, "not live: boxinit has ended: state failed, exit code 3\n"],
    ["backed off and exited", "backedoff", { exitCode: 0 }, "not live: boxinit has ended: state backedoff, exit code 0\n"],
    ["stopped without an exit code", "stopped", {}, "not live: boxinit has ended: state stopped\n"],
    ["a state boxinit never writes", "paused", {}, "not live: state is paused: boxinit is not managing the box\n"],
    ["only jobs wrote here", "(jobs only)", {}, "not live: no boxinit PID 1 has written here (only batch jobs have)\n"],
  ];
  for (const [name, state, extra, expected] of cases) {
    const dir = tempDir(t);
    const document = state === "(jobs only)" ? { jobs: { reindex: {} } } : { schemaVersion: 1, state, since: "2026-11-26T10:00:00.000Z", updatedAt: secondsBefore(5), pid: 1, services: {}, ...extra };
    writeFileSync(join(dir, "status.json"), JSON.stringify(document));
    const io = captureIo();
    healthCommand(["--live"], dir, io);
    t.equal(io.out, expected, name);
  }
  const missing = captureIo();
  const dir = tempDir(t);
  t.equal(healthCommand(["--live"], dir, missing), 1);
  t.equal(missing.out, `not live: no status in ${dir} (is boxinit running with --state-dir ${dir}?)\n`);
});

t.test("--live: a stale heartbeat is not live, in every state, an idle backoff included", async (t) => {
  for (const [state, extra] of [["running", {}], ["degraded", {}], ["starting", {}], ["stopping", {}], ["backedoff", { backoff: true }]] as const) {
    const io = captureIo();
    t.equal(healthCommand(["--live"], statusAt(t, state, secondsBefore(91), extra), io), 1, state);
    t.match(io.out, /^not live: status is stale: updated 1m 31s ago, more than 1m 30s \(boxinit frozen or gone\?\)\n$/, state);
    t.equal(healthCommand(["--live"], statusAt(t, state, secondsBefore(90), extra), captureIo()), 0, `${state}: 90 s is still fresh`);
    t.equal(healthCommand(["--live"], statusAt(t, state, secondsBefore(-600), extra), captureIo()), 1, `${state}: a heartbeat 10 min in the future is not live`);
  }
  t.equal(healthCommand(["--live"], statusAt(t, "degraded", undefined), captureIo()), 1, "no updatedAt");
  t.equal(healthCommand(["--live", "--max-age", "5m"], statusAt(t, "degraded", secondsBefore(200)), captureIo()), 0, "--max-age applies to --live too");
  t.equal(healthCommand(["--live", "--max-age", "1m"], statusAt(t, "degraded", secondsBefore(61)), captureIo()), 1);
});

t.test("--ready in degraded names the services on their way back", async (t) => {
  const services = {
    app: { state: "restarting", pid: null, restarts: 0 },
    shipper: { state: "running", pid: 12, restarts: 0 },
    db: { state: "warming", pid: 13, restarts: 2 },
  };
  const io = captureIo();
  t.equal(healthCommand([], statusAt(t, "degraded", secondsBefore(5), { services }), io), 1);
  t.equal(io.out, "unhealthy: state is degraded, not running: down: app (restarting), db (warming)\n");
  const escaped = captureIo();
  healthCommand([], statusAt(t, "degraded", secondsBefore(5), { services: { "a\u001b[2J": { state: "restarting" } } }), escaped);
  t.notMatch(escaped.out, /\u001b/, "a name from the file cannot reach the terminal as a control character");
});

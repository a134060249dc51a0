import t from "tap";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WarmupCheck, WarmupConfig } from "../../src/config/types.ts";
import { Logger, type Level } from "../../src/log/logger.ts";
import type { LogEvent } from "../../src/log/events.ts";
import { isProcessAlive } from "../../src/supervisor/pidfile.ts";
import { runWarmup, STDERR_TAIL_BYTES, type WarmupOutcome } from "../../src/supervisor/warmup.ts";
import type { StartCheck } from "../../src/supervisor/check-process.ts";

const dir = mkdtempSync(join(tmpdir(), "boxinit-warmup-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

interface Logged { level: Level; event: LogEvent; message: string; fields: Record<string, unknown> }

const capture = (): { log: Logger; lines: Logged[] } => {
  const lines: Logged[] = [];
  const log = new Logger({ write: (level, event, message, fields) => lines.push({ level, event, message, fields }) }, "debug");
  return { log, lines };
};

// Timeouts far beyond any spawn or request on a loaded machine: an outcome
// must not depend on how fast `sh` starts. Tests that need a timeout set a short one.
const config = (check: WarmupCheck, overrides: Partial<WarmupConfig> = {}): WarmupConfig => ({
  check,
  intervalMs: 20,
  tryTimeoutMs: 5000,
  timeoutMs: 10_000,
  onTimeout: "fail",
  ...overrides,
});

const warm = (warmup: WarmupConfig, signal = new AbortController().signal, env?: NodeJS.ProcessEnv) => {
  const { log, lines } = capture();
  const startedAt = Date.now();
  const result = runWarmup(warmup, { service: "app", log, signal, ...(env ? { env } : {}) }).then(
    (outcome: WarmupOutcome) => ({ outcome, ms: Date.now() - startedAt }),
  );
  return { result, lines };
};

const waitUntil = async (isDone: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await isDone())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const isTry = (line: Logged): boolean => line.event === "warmup-try";

/**
 * The problem the first try of a failing command check logs. The run has the
 * long timeouts and is aborted once that try is logged, so the problem is the
 * check's own, never "cut short" by a deadline that beat a slow spawn.
 */
const firstProblem = async (check: WarmupCheck, env?: NodeJS.ProcessEnv): Promise<unknown> => {
  const controller = new AbortController();
  const running = warm(config(check, { intervalMs: 60_000 }), controller.signal, env);
  await waitUntil(() => running.lines.some(isTry), "the first try", 15_000);
  controller.abort();
  await running.result;
  return running.lines.find(isTry)?.fields.problem;
};

/** A server on 127.0.0.1:0; handler null never answers. Closed with its sockets at teardown. */
const serve = async (t: { teardown: (fn: () => void) => void }, handler: ((response: ServerResponse, count: number) => void) | null) => {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((_request, response) => {
    requests++;
    if (handler) handler(response, requests);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/health`, port, requests: () => requests, openSockets: () => sockets.size };
};

// A port nothing listens on: bound once by us, then closed.
const freePort = async (): Promise<number> => {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
};

t.test("http: 503 twice, then 200; expect 2xx", async (t) => {
  const server = await serve(t, (response, count) => {
    response.statusCode = count <= 2 ? 503 : 200;
    response.end("body");
  });
  const { result, lines } = warm(config({ kind: "http", url: server.url, expect: "2xx" }));
  const { outcome } = await result;
  t.match(outcome, { outcome: "ready", tries: 3 });
  const tries = lines.filter((line) => line.event === "warmup-try");
  t.same(tries.map((line) => [line.level, line.fields.service, line.fields.try, line.fields.problem]), [
    ["debug", "app", 1, "answered 503 Service Unavailable"],
    ["debug", "app", 2, "answered 503 Service Unavailable"],
  ]);
  const passed = lines.find((line) => line.event === "warmup-passed");
  t.match(passed, { level: "info", message: "warm-up passed", fields: { service: "app", tries: 3, elapsedMs: Number } });
  await waitUntil(() => server.openSockets() === 0, "every connection closed (agent: false, destroyed)");
});

t.test("http: any answer counts when expect is any", async (t) => {
  const server = await serve(t, (response) => {
    response.statusCode = 503;
    response.end();
  });
  const { outcome } = await warm(config({ kind: "http", url: server.url, expect: "any" })).result;
  t.match(outcome, { outcome: "ready", tries: 1 });
});

t.test("http: the first try is immediate, the body is never waited for", async (t) => {
  const server = await serve(t, (response) => {
    response.writeHead(200);
    response.write("a page that never ends");
  });
  const { outcome, ms } = await warm(config({ kind: "http", url: server.url, expect: "2xx" }, { intervalMs: 60_000 })).result;
  t.match(outcome, { outcome: "ready", tries: 1 });
  t.ok(ms < 8000, `took ${ms}ms: well under the 10s timeout, not after a 60s interval`);
  await waitUntil(() => server.openSockets() === 0, "the streaming response destroyed");
});

t.test("http: localhost finds a server on 127.0.0.1", async (t) => {
  const server = await serve(t, (response) => response.end());
  const { outcome } = await warm(config({ kind: "http", url: `http://localhost:${server.port}/`, expect: "any" })).result;
  t.match(outcome, { outcome: "ready" });
});

t.test("http: nothing listening, tried again until the timeout", async (t) => {
  const port = await freePort();
  const { result, lines } = warm(config({ kind: "http", url: `http://127.0.0.1:${port}/`, expect: "any" }, { timeoutMs: 1000 }));
  const { outcome, ms } = await result;
  t.match(outcome, { outcome: "timeout", lastProblem: "connection refused" });
  t.ok(outcome.outcome === "timeout" && outcome.tries >= 2, `tried ${outcome.outcome === "timeout" ? outcome.tries : 0} times`);
  t.ok(ms >= 990, `took ${ms}ms: not before the timeout`);
  t.notOk(lines.some((line) => line.event === "warmup-passed"));
});

t.test("http: a server that never answers is cut by the per-try timeout", async (t) => {
  const server = await serve(t, null);
  const check = config({ kind: "http", url: server.url, expect: "any" }, { tryTimeoutMs: 100, intervalMs: 1000, timeoutMs: 400 });
  // The deadline falls in the pause after the first try: its problem is the last.
  const { outcome } = await warm(check).result;
  t.same(outcome, { outcome: "timeout", tries: 1, lastProblem: "no answer within 100ms" });
  const again = warm({ ...check, intervalMs: 20, timeoutMs: 1500 });
  await again.result;
  const cut = again.lines.filter((line) => line.event === "warmup-try" && line.fields.problem === "no answer within 100ms");
  t.ok(cut.length >= 2, `tried again after a try timed out (${cut.length} tries cut)`);
  await waitUntil(() => server.openSockets() === 0, "the hanging requests' sockets closed");
});

t.test("http: the overall timeout cuts a try in flight", async (t) => {
  const server = await serve(t, null);
  const { outcome, ms } = await warm(config({ kind: "http", url: server.url, expect: "any" }, { tryTimeoutMs: 10_000, timeoutMs: 100 })).result;
  t.same(outcome, { outcome: "timeout", tries: 1, lastProblem: "no answer yet when the warm-up ended" });
  t.ok(ms >= 95 && ms < 8000, `took ${ms}ms: cut, well before the 10s try timeout`);
});

t.test("http: abort ends at once, also before the first try", async (t) => {
  const server = await serve(t, null);
  const controller = new AbortController();
  const running = warm(config({ kind: "http", url: server.url, expect: "any" }, { tryTimeoutMs: 10_000 }), controller.signal);
  await waitUntil(() => server.requests() === 1, "the request in flight");
  controller.abort();
  const { outcome, ms } = await running.result;
  t.same(outcome, { outcome: "aborted" });
  t.ok(ms < 8000, `took ${ms}ms: well under the 10s timeouts`);
  t.same(running.lines, [], "nothing logged for an aborted try");
  const early = await warm(config({ kind: "http", url: server.url, expect: "any" }), AbortSignal.abort()).result;
  t.same(early.outcome, { outcome: "aborted" });
  t.equal(server.requests(), 1, "no request after the abort");
});

t.test("http: node:http is not loaded by importing the module", async (t) => {
  const script = [
    `await import(${JSON.stringify(new URL("../../src/supervisor/warmup.ts", import.meta.url).href)});`,
    `console.log(process.moduleLoadList.filter((name) => /^NativeModule (http|https|_http_\\w+)$/.test(name)).join(",") || "none");`,
  ].join("\n");
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  t.equal(output.trim(), "none");
});

t.test("command: ready once a file exists", async (t) => {
  const flag = join(dir, "ready-flag");
  const { result, lines } = warm(config({ kind: "command", command: ["sh", "-c", `test -e '${flag}'`] }));
  // The flag appears only after a try failed without it, however slow that try was.
  await waitUntil(() => lines.some(isTry), "the first try", 15_000);
  writeFileSync(flag, "");
  const { outcome } = await result;
  t.match(outcome, { outcome: "ready" });
  t.ok(outcome.outcome === "ready" && outcome.tries >= 2, "failed at least once first");
  t.match(lines.find(isTry), { fields: { try: 1, problem: "exited with code 1" } });
});

t.test("command: failures keep the end of stderr for the problem", async (t) => {
  t.equal(await firstProblem({ kind: "command", command: ["sh", "-c", "echo 'not yet:' >&2; echo '  still starting' >&2; exit 3"] }),
    "exited with code 3: not yet: still starting");
  const long = `head -c 5000 /dev/zero | tr '\\0' x >&2; echo ' the end' >&2; exit 1`;
  const problem = String(await firstProblem({ kind: "command", command: ["sh", "-c", long] }));
  t.match(problem, /^exited with code 1: x+ the end$/);
  t.ok(problem.length <= "exited with code 1: ".length + STDERR_TAIL_BYTES, `${problem.length} chars`);
});

t.test("command: a check that never passes ends in a timeout", async (t) => {
  // Only the outcome: how many tries fit in 100ms depends on how fast sh starts.
  const { outcome } = await warm(config({ kind: "command", command: ["sh", "-c", "exit 3"] }, { timeoutMs: 100 })).result;
  t.equal(outcome.outcome, "timeout");
});

t.test("command: a signal death and a missing program", async (t) => {
  t.equal(await firstProblem({ kind: "command", command: ["sh", "-c", "kill -TERM $$"] }), "was killed by SIGTERM");
  t.equal(await firstProblem({ kind: "command", command: ["/nonexistent/check"] }), 'cannot run "/nonexistent/check": no such file');
});

t.test("command: the environment given is the command's", async (t) => {
  const check: WarmupCheck = { kind: "command", command: ["sh", "-c", 'test "$WARMUP_FLAG" = yes'] };
  const { outcome } = await warm(config(check), undefined, { ...process.env, WARMUP_FLAG: "yes" }).result;
  t.match(outcome, { outcome: "ready", tries: 1 });
  t.equal(await firstProblem(check, { PATH: process.env.PATH }), "exited with code 1", "without the variable the check fails");
});

t.test("command: a try that overruns is killed with its whole process group", async (t) => {
  const pidPath = join(dir, "grandchild.pid");
  // The grandchild `sleep` would outlive a kill of sh alone.
  const command = ["sh", "-c", `sleep 30 & echo $! > '${pidPath}'; wait`];
  // 2s per try: sh has long written the pid when the try is cut.
  const controller = new AbortController();
  const running = warm(config({ kind: "command", command }, { tryTimeoutMs: 2000, intervalMs: 60_000 }), controller.signal);
  await waitUntil(() => running.lines.some(isTry), "the try cut", 15_000);
  controller.abort();
  await running.result;
  t.match(running.lines.find(isTry), { fields: { try: 1, problem: "still running after 2s, killed" } });
  const grandchild = Number(readFileSync(pidPath, "utf8"));
  await waitUntil(() => !isProcessAlive(grandchild), "the grandchild killed");
  t.pass("the grandchild is gone");
});

t.test("command: abort kills the check in flight and ends at once", async (t) => {
  const pidPath = join(dir, "check.pid");
  const controller = new AbortController();
  const command = ["sh", "-c", `echo $$ > '${pidPath}'; exec sleep 30`];
  const running = warm(config({ kind: "command", command }, { tryTimeoutMs: 10_000 }), controller.signal);
  await waitUntil(() => readFileSync(pidPath, { encoding: "utf8", flag: "a+" }).trim() !== "", "the check started");
  controller.abort();
  const { outcome, ms } = await running.result;
  t.same(outcome, { outcome: "aborted" });
  t.ok(ms < 8000, `took ${ms}ms: well under the 10s timeouts`);
  const pid = Number(readFileSync(pidPath, "utf8"));
  await waitUntil(() => !isProcessAlive(pid), "the check killed");
  t.pass("the check is gone");
});

// The command runner over a fake StartCheck: no process, an output stream and
// an ending the test controls. The pid is above PID_MAX_LIMIT (2^22), so the
// SIGKILL of a cut try reaches no real process group.
const NO_SUCH_PID = 4_194_305;

const fakeCheck = () => {
  const { PassThrough } = process.getBuiltinModule("node:stream");
  const runs: Array<{ argv: readonly string[]; output: InstanceType<typeof PassThrough>; end: (ending: { code: number | null; signal: number | null }) => void }> = [];
  const startCheck = (argv: readonly string[]) => {
    const output = new PassThrough();
    let end = (_ending: { code: number | null; signal: number | null }): void => {};
    const ended = new Promise<{ code: number | null; signal: number | null }>((resolve) => (end = resolve));
    runs.push({ argv, output, end });
    return { pid: NO_SUCH_PID, ended, output };
  };
  return { startCheck, runs };
};

const warmWith = (warmup: WarmupConfig, startCheck: StartCheck, signal = new AbortController().signal) => {
  const { log, lines } = capture();
  return { result: runWarmup(warmup, { service: "app", log, signal, startCheck }), lines };
};

t.test("command runner: exit 0 is ready; a failure says how it ended and the end of its output", async (t) => {
  const fake = fakeCheck();
  const { result, lines } = warmWith(config({ kind: "command", command: ["check"] }, { intervalMs: 1 }), fake.startCheck);
  await waitUntil(() => fake.runs.length === 1, "the first try");
  fake.runs[0]!.output.end("first line\nwhy it failed\n");
  fake.runs[0]!.end({ code: 2, signal: null });
  await waitUntil(() => fake.runs.length === 2, "the second try");
  t.match(lines.find(isTry), { fields: { try: 1, problem: "exited with code 2: first line why it failed" } });
  fake.runs[1]!.end({ code: 0, signal: null });
  t.match(await result, { outcome: "ready", tries: 2 });
  t.same(fake.runs[0]!.argv, ["check"]);
});

t.test("command runner: output held open after the end is not waited for beyond a moment", async (t) => {
  const fake = fakeCheck();
  const controller = new AbortController();
  const { result, lines } = warmWith(config({ kind: "command", command: ["check"] }, { intervalMs: 60_000 }), fake.startCheck, controller.signal);
  await waitUntil(() => fake.runs.length === 1, "the first try");
  fake.runs[0]!.output.write("partial");
  fake.runs[0]!.end({ code: null, signal: 15 });
  await waitUntil(() => lines.some(isTry), "the try's verdict");
  t.match(lines.find(isTry), { fields: { problem: "was killed by SIGTERM: partial" } });
  t.ok(fake.runs[0]!.output.destroyed, "the runner let go of the output");
  controller.abort();
  t.same(await result, { outcome: "aborted" });
});

t.test("command runner: a try that overruns is cut (its group SIGKILLed) and said so", async (t) => {
  const fake = fakeCheck();
  const controller = new AbortController();
  const { result, lines } = warmWith(config({ kind: "command", command: ["check"] }, { tryTimeoutMs: 50, intervalMs: 60_000 }), fake.startCheck, controller.signal);
  await waitUntil(() => lines.some(isTry), "the cut try");
  t.match(lines.find(isTry), { fields: { try: 1, problem: "still running after 50ms, killed" } });
  t.ok(fake.runs[0]!.output.destroyed);
  controller.abort();
  t.same(await result, { outcome: "aborted" });
});

t.test("command runner: a check that cannot start is a failed try with the starter's words", async (t) => {
  const controller = new AbortController();
  const { result, lines } = warmWith(config({ kind: "command", command: ["check"] }, { intervalMs: 60_000 }), () => ({ problem: 'cannot run "check": not found in PATH' }), controller.signal);
  await waitUntil(() => lines.some(isTry), "the first try");
  t.match(lines.find(isTry), { fields: { problem: 'cannot run "check": not found in PATH' } });
  controller.abort();
  t.same(await result, { outcome: "aborted" });
});

// PID 1's probe server in this process, over real sockets: the answers
// (200/503 with one line, HEAD, 404, 405, 413, 500 for a throwing answer),
// its bounds (a slowloris client cut, the 17th connection closed at once, a
// huge header refused, more than 50 connections in a second closed unread,
// one address's 5th open connection and 21st of a second refused while
// other addresses are answered) with the server still answering after each, a port
// in use, and close(). EACCES on a low port is tried as uid 65534 in a child.
import t, { type Test } from "tap";
import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { perSecond, perSource, sourceOf, startProbeServer, ProbeServerError, PROBE_LIMITS, type ProbeServer, type ProbeServerOptions } from "../../src/control/probe-server.ts";
import { probeAnswer, type ProbeSnapshot } from "../../src/control/probe-server-verdict.ts";
import { recordingLogger, type RecordedLog } from "../helpers/recording-logger.ts";
import { waitFor } from "../helpers/wait-for.ts";

interface Started {
  server: ProbeServer;
  box: ProbeSnapshot;
  recorded: RecordedLog;
}

const start = async (t: Test, options: Partial<ProbeServerOptions> = {}): Promise<Started> => {
  const recorded = recordingLogger();
  const box: ProbeSnapshot = { state: "running" };
  const server = await startProbeServer({ port: 0, host: "127.0.0.1", answer: (question) => probeAnswer(question, box), log: recorded.log, ...options });
  t.teardown(() => server.close());
  return { server, box, recorded };
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a connection of its own, as the kubelet asks. */
const ask = (port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string; host?: string; from?: string } = {}): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const sent = request({
      host: options.host ?? "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers, agent: false,
      ...(options.from !== undefined && { localAddress: options.from }),
    }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    sent.on("error", reject);
    sent.end(options.body);
  });

/** A raw connection: what it wrote, and whether the server closed it. */
interface RawClient {
  socket: Socket;
  received: () => string;
  isClosed: () => boolean;
}

/** A raw connection from `from` (another loopback address is another client to the server: 127.0.0.0/8 is all local). */
const rawClient = (t: Test, port: number, from = "127.0.0.1"): Promise<RawClient> =>
  new Promise((resolve, reject) => {
    let received = "";
    let isClosed = false;
    const socket = connect({ host: "127.0.0.1", port, localAddress: from }, () => resolve({ socket, received: () => received, isClosed: () => isClosed }));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("close", () => (isClosed = true));
    // A reset by the server is one way of being closed.
    socket.on("error", () => undefined);
    socket.once("error", (error) => (isClosed ? undefined : reject(error)));
    t.teardown(() => socket.destroy());
  });

t.test("answers: 200 or 503 with the state in one line, from the box as it is at each probe", async (t) => {
  const { server, box } = await start(t);
  const ready = await ask(server.port, "/readyz");
  t.equal(ready.status, 200);
  t.equal(ready.body, "ready: running\n");
  t.match(ready.headers["content-type"], /^text\/plain/);
  t.equal(ready.headers.connection, "close");
  t.same(await ask(server.port, "/livez").then((a) => [a.status, a.body]), [200, "live: running\n"]);

  box.state = "backedoff";
  t.same(await ask(server.port, "/readyz").then((a) => [a.status, a.body]), [503, "not ready: state is backedoff, not running\n"]);
  t.same(await ask(server.port, "/livez").then((a) => [a.status, a.body]), [200, "live: backedoff\n"], "idle backoff: live");
  box.exitCode = 0;
  t.same(await ask(server.port, "/livez").then((a) => [a.status, a.body]), [503, "not live: boxinit has ended: state backedoff, exit code 0\n"]);
  t.equal((await ask(server.port, "/readyz?verbose=1")).status, 503, "a query string is ignored");
});

t.test("HEAD: the status and length without a body", async (t) => {
  const { server } = await start(t);
  const head = await ask(server.port, "/readyz", { method: "HEAD" });
  t.equal(head.status, 200);
  t.equal(head.body, "");
  t.equal(head.headers["content-length"], String("ready: running\n".length));
});

t.test("other paths: 404; other methods: 405 with Allow; a body: 413", async (t) => {
  const { server } = await start(t);
  for (const path of ["/", "/healthz", "/readyz/x", "/livez.html"]) {
    const answer = await ask(server.port, path);
    t.equal(answer.status, 404, path);
    t.equal(answer.body, "not found: ask GET /livez or GET /readyz\n");
  }
  for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
    const answer = await ask(server.port, "/readyz", { method });
    t.equal(answer.status, 405, method);
    t.equal(answer.headers.allow, "GET, HEAD");
  }
  const withBody = await ask(server.port, "/readyz", { headers: { "Content-Length": "3" }, body: "abc" });
  t.equal(withBody.status, 413);
});

t.test("an answer that throws: 500, logged as a bug, and the next probe is answered", async (t) => {
  let shouldThrow = true;
  const { server, recorded } = await start(t, {
    answer: () => {
      if (shouldThrow) throw new Error("box gone");
      return { ok: true, why: "running" };
    },
  });
  const failed = await ask(server.port, "/readyz");
  t.equal(failed.status, 500);
  t.match(recorded.at("warn").join(""), /probe: bug: the probe's answer threw: answered 500 error="Error: box gone" count=1/);
  shouldThrow = false;
  t.equal((await ask(server.port, "/readyz")).status, 200);
});

t.test("garbage instead of HTTP: 400 and closed; PID 1 answers the next probe", async (t) => {
  const { server } = await start(t);
  const client = await rawClient(t, server.port);
  client.socket.write("\x16\x03\x01 not http at all\r\n\r\n");
  await waitFor("the server to close the connection", client.isClosed, 10_000, 10);
  t.match(client.received(), /^HTTP\/1\.1 400 /);
  t.equal((await ask(server.port, "/livez")).status, 200);
});

t.test("a slowloris client (a header byte now and then) is cut; probes are answered meanwhile", async (t) => {
  const { server } = await start(t);
  const client = await rawClient(t, server.port);
  client.socket.write("GET /readyz HTTP/1.1\r\nX-Slow: ");
  let bytesTrickled = 0;
  const trickle = setInterval(() => {
    if (client.isClosed()) return;
    client.socket.write("a");
    bytesTrickled += 1;
  }, 50);
  t.teardown(() => clearInterval(trickle));
  t.equal((await ask(server.port, "/readyz")).status, 200, "answered while the slow client holds its connection");
  await waitFor("the server to cut the slow client", client.isClosed, PROBE_LIMITS.connectionMs + 10_000, 10);
  clearInterval(trickle);
  t.ok(bytesTrickled > 0, `the client kept sending (${bytesTrickled} bytes) until it was cut`);
  t.notMatch(client.received(), /^HTTP\/1\.1 200/, "it never got an answer");
});

t.test("the 17th connection is closed at once while 16 are open; one closes and probes are answered again", async (t) => {
  // The 16 must outlive the test's steps: no cut at 2 s here (the cut is the test above).
  const { server, recorded } = await start(t, { limits: { connectionMs: 600_000 } });
  const held: RawClient[] = [];
  // Four addresses, each at its own bound of 4: together the 16 of every address.
  for (let i = 0; i < PROBE_LIMITS.maxConnections; i++) held.push(await rawClient(t, server.port, `127.0.0.${2 + (i % 4)}`));
  // Accepted in the order they connected: the 17th (from an address with none open) finds 16 open.
  const extra = await rawClient(t, server.port, "127.0.0.9");
  await waitFor("the server to close the 17th connection", extra.isClosed, 10_000, 10);
  t.equal(extra.received(), "", "closed without an answer");
  t.ok(held.every((client) => !client.isClosed()), "the 16 are still open");
  t.match(recorded.at("warn").join(""), /probe: connection refused: 16 probe connections are open, the most allowed count=1/);

  held[0]!.socket.destroy();
  const answer = await askUntilAnswered(server.port, "/readyz");
  t.equal(answer.status, 200, "answered once one connection is free");
});

t.test("more than maxPerSecond connections in a second: closed unread, said once; the next second is served", async (t) => {
  let nowMs = 0;
  const { server, recorded } = await start(t, { limits: { maxPerSecond: 3 }, clockMs: () => nowMs });
  for (let i = 0; i < 3; i++) t.equal((await ask(server.port, "/readyz")).status, 200, `probe ${i + 1} of the second`);
  const refused = await ask(server.port, "/readyz").then(() => "answered", (error: NodeJS.ErrnoException) => error.code);
  t.match(refused, /^(ECONNRESET|EPIPE)$/, "the 4th is closed without an answer");
  t.match(recorded.at("warn").join(""), /probe: connection refused: more than 3 probe connections in a second count=1/);
  nowMs = 1000;
  t.equal((await ask(server.port, "/readyz")).status, 200, "the next second is served");
});

t.test("one address holding 4 connections: its 5th is closed at once; another address is answered; a slot freed serves it again", async (t) => {
  const { server, recorded } = await start(t, { limits: { connectionMs: 600_000 } });
  const held: RawClient[] = [];
  for (let i = 0; i < PROBE_LIMITS.maxConnectionsPerSource; i++) held.push(await rawClient(t, server.port, "127.0.0.2"));
  const fifth = await rawClient(t, server.port, "127.0.0.2");
  await waitFor("the server to close the address's 5th connection", fifth.isClosed, 10_000, 10);
  t.equal(fifth.received(), "", "closed without an answer");
  t.ok(held.every((client) => !client.isClosed()), "its 4 are still open");
  t.match(recorded.at("warn").join(""), /probe: connection refused: 4 probe connections from one address are open, the most allowed source=127\.0\.0\.2 count=1/);
  t.equal((await ask(server.port, "/livez")).status, 200, "the kubelet's address is answered meanwhile");
  held[0]!.socket.destroy();
  // The server hears of the close when it does: ask until it has.
  let again: Answer | undefined;
  for (let tries = 0; again === undefined && tries < 100; tries++) {
    again = await ask(server.port, "/livez", { from: "127.0.0.2" }).catch(() => undefined);
    if (again === undefined) await new Promise((wake) => setTimeout(wake, 50));
  }
  t.equal(again?.status, 200, "the address is served again once one of its connections closed");
});

t.test("one address over 20 connections a second: refused and said once; another address is answered in that second, its refusals not counted", async (t) => {
  let nowMs = 0;
  const { server, recorded } = await start(t, { limits: { maxPerSecond: 25 }, clockMs: () => nowMs });
  for (let i = 0; i < PROBE_LIMITS.maxPerSecondPerSource; i++) t.equal((await ask(server.port, "/readyz", { from: "127.0.0.3" })).status, 200, `probe ${i + 1} of the address`);
  const refusals: string[] = [];
  for (let i = 0; i < 10; i++) refusals.push(await ask(server.port, "/readyz", { from: "127.0.0.3" }).then(() => "answered", (error: NodeJS.ErrnoException) => error.code ?? "?"));
  t.ok(refusals.every((code) => code === "ECONNRESET" || code === "EPIPE"), `the next 10 are closed unanswered (${refusals.join(" ")})`);
  t.match(recorded.at("warn").join(""), /probe: connection refused: more than 20 probe connections in a second from one address source=127\.0\.0\.3 count=1/);
  // 20 of the second's 25 are used; the 10 refused did not count.
  for (let i = 0; i < 5; i++) t.equal((await ask(server.port, "/readyz")).status, 200, `another address, probe ${i + 1}`);
  nowMs = 1000;
  t.equal((await ask(server.port, "/readyz", { from: "127.0.0.3" })).status, 200, "the next second serves the address again");
});

t.test("perSource and sourceOf: per address, per second and open at once; an IPv4 client of a dual-stack socket is its IPv4 address", async (t) => {
  let nowMs = 0;
  const sources = perSource({ maxConnectionsPerSource: 2, maxPerSecondPerSource: 3 }, () => nowMs);
  t.same([sources.admit("a"), sources.admit("a"), sources.admit("a")], ["ok", "ok", "open"], "two open at once");
  t.equal(sources.admit("b"), "ok", "another address has its own count");
  sources.closed("a");
  t.equal(sources.admit("a"), "per-second", "a slot is free, but that was its 4th this second");
  nowMs = 1000;
  t.equal(sources.admit("a"), "ok", "the next second");
  t.equal(sourceOf({ remoteAddress: "::ffff:10.1.2.3" }), "10.1.2.3");
  t.equal(sourceOf({ remoteAddress: "fd00::1" }), "fd00::1");
  t.equal(sourceOf({ remoteAddress: undefined }), "unknown");
});

t.test("perSecond: counts in windows of a second of its clock", async (t) => {
  let nowMs = 5000;
  const mayServe = perSecond(2, () => nowMs);
  t.same([mayServe(), mayServe(), mayServe()], [true, true, false]);
  nowMs = 5999;
  t.equal(mayServe(), false, "same window");
  nowMs = 6000;
  t.same([mayServe(), mayServe(), mayServe()], [true, true, false]);
});

t.test("a header over 4 KiB: 431 and closed; 3 KiB of headers are answered", async (t) => {
  const { server } = await start(t);
  const huge = await ask(server.port, "/readyz", { headers: { "X-Big": "a".repeat(PROBE_LIMITS.maxHeaderBytes + 100) } });
  t.equal(huge.status, 431);
  const fine = await ask(server.port, "/readyz", { headers: { "X-Fair": "a".repeat(3 * 1024) } });
  t.equal(fine.status, 200);
});

t.test("a port in use: a ProbeServerError naming the port and the way out, logged", async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const recorded = recordingLogger();
  const failure = await startProbeServer({ port, host: "127.0.0.1", answer: () => ({ ok: true, why: "running" }), log: recorded.log }).then(
    () => undefined,
    (error: unknown) => error,
  );
  t.ok(failure instanceof ProbeServerError, "rejected with a ProbeServerError");
  t.equal((failure as ProbeServerError).code, "EADDRINUSE");
  t.match((failure as Error).message, new RegExp(`^probe server: cannot listen on 127\\.0\\.0\\.1 port ${port}: .*EADDRINUSE.*; another process in this network namespace listens there .*choose another probe\\.port`));
  t.match(recorded.at("error").join(""), /^boxinit: error: probe: probe server: cannot listen on .* error=EADDRINUSE/);
});

t.test("close(): stops listening and cuts a connection still open", async (t) => {
  const { server } = await start(t, { limits: { connectionMs: 600_000 } });
  const idle = await rawClient(t, server.port);
  await server.close();
  await waitFor("the open connection cut", idle.isClosed, 10_000, 10);
  const refused = await ask(server.port, "/readyz").then(() => "answered", (error: NodeJS.ErrnoException) => error.code);
  t.equal(refused, "ECONNREFUSED");
});

t.test("no host given: every address, IPv4 and (where there is one) IPv6 loopback", async (t) => {
  const { server } = await start(t, { host: undefined });
  t.equal((await ask(server.port, "/livez", { host: "127.0.0.1" })).status, 200, "127.0.0.1");
  const hasIpv6Loopback = Object.values(networkInterfaces()).flat().some((address) => address?.address === "::1");
  if (hasIpv6Loopback) t.equal((await ask(server.port, "/livez", { host: "::1" })).status, 200, "::1");
});

t.test("a port below 1024 as an ordinary user: EACCES, said with the fix (uid 65534 in a child Node)", async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail("needs root to run the child as uid 65534 (run as root)");
    return;
  }
  const script = `
    import { startProbeServer } from ${JSON.stringify(new URL("../../src/control/probe-server.ts", import.meta.url).pathname)};
    import { recordingLogger } from ${JSON.stringify(new URL("../helpers/recording-logger.ts", import.meta.url).pathname)};
    const recorded = recordingLogger();
    await startProbeServer({ port: 81, answer: () => ({ ok: true, why: "x" }), log: recorded.log }).then(
      (server) => { console.log("listening"); return server.close(); },
      (error) => console.log(error.name, error.code, error.message));`;
  // Through env -i: tap's process hooks (and their files, which uid 65534 may not write) stay out of the child.
  const child = spawnSync("env", ["-i", `PATH=${process.env.PATH}`, process.execPath, "--input-type=module", "-e", script], { uid: 65534, gid: 65534, encoding: "utf8", timeout: 20_000 });
  t.equal(child.status, 0, "the child ran");
  t.equal(child.stderr, "", "and printed no error");
  t.match(child.stdout, /^ProbeServerError EACCES probe server: cannot listen on port 81: .*; ports below 1024 need root or CAP_NET_BIND_SERVICE/);
});

/** Ask until a probe is answered (a server at its limit closes the connection instead), with a deadline. */
const askUntilAnswered = async (port: number, path: string, deadlineMs = 10_000): Promise<Answer> => {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const answer = await ask(port, path).catch(() => undefined);
    if (answer !== undefined) return answer;
    if (performance.now() > deadline) throw new Error(`no answer to ${path} within ${deadlineMs} ms`);
    await new Promise((wake) => setTimeout(wake, 20));
  }
};

// The probe server's HTTP (pure): a request judged from the bytes read so far,
// and the answer's bytes.
import t from "tap";
import { readRequest, responseText } from "../../src/control/probe-server-request.ts";

const MAX = 4096;

t.test("a probe as the kubelet sends it; bare LF line ends; HTTP/1.0; a query string", async (t) => {
  const kubelet = "GET /readyz HTTP/1.1\r\nHost: 10.0.0.5:8099\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  t.same(readRequest(kubelet, MAX), { kind: "ask", question: "ready", isHead: false });
  t.same(readRequest("GET /livez HTTP/1.0\n\n", MAX), { kind: "ask", question: "live", isHead: false });
  t.same(readRequest("HEAD /livez?x=1 HTTP/1.1\r\n\r\n", MAX), { kind: "ask", question: "live", isHead: true });
});

t.test("incomplete until the headers end; over the limit without an end: 431", async (t) => {
  t.same(readRequest("GET /readyz HTTP/1.1\r\nHost: x\r\n", MAX), { kind: "incomplete" });
  t.same(readRequest("", MAX), { kind: "incomplete" });
  t.match(readRequest(`GET /readyz HTTP/1.1\r\nX: ${"a".repeat(MAX)}`, MAX), { kind: "answer", status: 431 });
  t.match(readRequest(`GET /readyz HTTP/1.1\r\nX: ${"a".repeat(MAX)}\r\n\r\n`, MAX), { kind: "answer", status: 431 }, "ended, but past the limit");
});

t.test("not a request line: 400", async (t) => {
  for (const text of ["\x16\x03\x01\x02\x00\r\n\r\n", "GET /readyz\r\n\r\n", "GET /readyz HTTP/2.0\r\n\r\n", "GET  /readyz HTTP/1.1\r\n\r\n", "G(T /readyz HTTP/1.1\r\n\r\n"]) {
    t.match(readRequest(text, MAX), { kind: "answer", status: 400 }, JSON.stringify(text));
  }
});

t.test("404 for other paths (HEAD: no body), 405 with Allow, 413 for an announced body", async (t) => {
  t.match(readRequest("GET / HTTP/1.1\r\n\r\n", MAX), { kind: "answer", status: 404, isHead: false });
  t.match(readRequest("HEAD /healthz HTTP/1.1\r\n\r\n", MAX), { kind: "answer", status: 404, isHead: true });
  t.match(readRequest("GET http://x/readyz HTTP/1.1\r\n\r\n", MAX), { kind: "answer", status: 404 });
  t.match(readRequest("POST /readyz HTTP/1.1\r\n\r\n", MAX), { kind: "answer", status: 405, headers: { Allow: "GET, HEAD" } });
  t.match(readRequest("GET /readyz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", MAX), { kind: "answer", status: 413 });
  t.match(readRequest("GET /readyz HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n", MAX), { kind: "answer", status: 413 });
  t.match(readRequest("GET /readyz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", MAX), { kind: "ask" }, "an empty body is no body");
  t.match(readRequest("GET /readyz HTTP/1.1\r\nX-Content-Length: 5\r\n\r\n", MAX), { kind: "ask" }, "only the header itself counts");
});

t.test("the answer's bytes: status line, length, close; HEAD without the body", async (t) => {
  t.equal(responseText(503, "not ready: state is stopping, not running\n", false),
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 42\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nnot ready: state is stopping, not running\n");
  const head = responseText(200, "ready: running\n", true);
  t.match(head, /Content-Length: 15\r\n/);
  t.ok(head.endsWith("\r\n\r\n"), "no body after the headers");
  t.match(responseText(405, "x\n", false, { Allow: "GET, HEAD" }), /\r\nAllow: GET, HEAD\r\n\r\nx\n$/);
});

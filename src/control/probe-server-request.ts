// The little HTTP the probe server speaks (pure): one request per connection,
// read up to the end of its headers, and the whole answer as bytes. Only the
// request line is used and a body is refused, so there is nothing else to
// parse: no keep-alive, no chunking, no header values kept.
import type { ProbeQuestion } from "./probe-server-verdict.ts";

/** What the bytes read so far make of a request. */
export type RequestRead =
  | { kind: "incomplete" }
  | { kind: "answer"; status: number; body: string; isHead: boolean; headers?: Record<string, string> }
  | { kind: "ask"; question: ProbeQuestion; isHead: boolean };

const QUESTIONS: Readonly<Record<string, ProbeQuestion>> = { "/livez": "live", "/readyz": "ready" };

// RFC 9112 section 3: method SP request-target SP HTTP-version; a method is a token.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.[01]$/;
// RFC 9112 section 2.2: a recipient may take a bare LF as a line's end.
const HEADERS_END = /\r?\n\r?\n/;
const ANNOUNCES_BODY = /^(?:transfer-encoding\s*:|content-length\s*:\s*0*[1-9])/im;

const answer = (status: number, body: string, isHead = false, headers?: Record<string, string>): RequestRead =>
  ({ kind: "answer", status, body, isHead, ...(headers && { headers }) });

/**
 * Judge the bytes of a connection so far (latin1: one character per byte).
 * Over maxBytes without the end of the headers: 431.
 */
export const readRequest = (text: string, maxBytes: number): RequestRead => {
  const end = HEADERS_END.exec(text);
  if (end === null) return text.length > maxBytes ? answer(431, "request headers too large\n") : { kind: "incomplete" };
  if (end.index > maxBytes) return answer(431, "request headers too large\n");
  const head = text.slice(0, end.index);
  const firstLineEnd = head.search(/\r?\n|$/);
  const line = REQUEST_LINE.exec(head.slice(0, firstLineEnd));
  if (line === null) return answer(400, "bad request: not an HTTP/1 request line\n");
  const method = line[1]!;
  const isHead = method === "HEAD";
  const question = QUESTIONS[line[2]!.split("?", 1)[0]!];
  if (question === undefined) return answer(404, "not found: ask GET /livez or GET /readyz\n", isHead);
  if (method !== "GET" && !isHead) return answer(405, "method not allowed: ask with GET or HEAD\n", false, { Allow: "GET, HEAD" });
  if (ANNOUNCES_BODY.test(head.slice(firstLineEnd))) return answer(413, "a probe has no body\n");
  return { kind: "ask", question, isHead };
};

const REASONS: Readonly<Record<number, string>> = {
  200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large",
  431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
};

/** The whole response: status line, headers, and the body unless it answers a HEAD. */
export const responseText = (status: number, body: string, isHead: boolean, headers: Record<string, string> = {}): string => {
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Cache-Control: no-store",
    // One request per connection: the kubelet's prober disables keep-alive anyway.
    "Connection: close",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join("\r\n")}\r\n\r\n${isHead ? "" : body}`;
};

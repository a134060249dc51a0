// PID 1's own HTTP answers to a kubelet's httpGet probes: GET /livez and
// GET /readyz on `probe.port`, 200 or 503 with the state in a one-line body,
// so a probe starts no process. Bounded so that a misbehaving client cannot
// hurt PID 1: connections, header bytes, time per connection, no body.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "../log/logger.ts";
import type { LogEvent } from "../log/events.ts";
import { probeBody, type ProbeQuestion, type ProbeVerdict } from "./probe-server-verdict.ts";

export type { ProbeQuestion, ProbeVerdict };

// Not yet a name in log/events.ts (a file of another change): asked for there.
const PROBE_EVENT = "probe" as LogEvent;

export interface ProbeLimits {
  /** Open connections at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
  /** Request line and headers together; more is answered 431 and closed. */
  maxHeaderBytes: number;
  /** A connection's whole life, from accept: a client that is slower is cut. */
  connectionMs: number;
}

export const PROBE_LIMITS: ProbeLimits = { maxConnections: 16, maxHeaderBytes: 4096, connectionMs: 2000 };

export interface ProbeServerOptions {
  port: number;
  /** undefined: every address (the kubelet probes the Pod's IP). */
  host?: string;
  /** Asked on every probe; must not throw (if it does, the probe gets 500 and the bug is logged). */
  answer: (question: ProbeQuestion) => ProbeVerdict;
  log: Logger;
  limits?: Partial<ProbeLimits>;
}

export interface ProbeServer {
  /** The port listened on (the one asked for, or the kernel's choice for 0). */
  port: number;
  /** Stop listening and cut the connections still open. */
  close(): Promise<void>;
}

/** The server could not listen: the boot fails with it (docs/health.md#probes). */
export class ProbeServerError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = "ProbeServerError";
    this.code = code;
  }
}

const QUESTIONS: Readonly<Record<string, ProbeQuestion>> = { "/livez": "live", "/readyz": "ready" };

// A misbehaving client may repeat its fault thousands of times a second: PID 1's
// log gets one line per kind per interval, with the count since the last one.
const LOG_EVERY_MS = 10_000;

/** Logs the first of a kind of trouble at once, then at most one line per LOG_EVERY_MS with a count. */
const throttledWarning = (log: Logger, message: string): ((fields?: Record<string, string>) => void) => {
  let lastMs = Number.NEGATIVE_INFINITY;
  let unsaid = 0;
  return (fields) => {
    unsaid += 1;
    const nowMs = performance.now();
    if (nowMs - lastMs < LOG_EVERY_MS) return;
    log.warn(PROBE_EVENT, message, { ...fields, count: unsaid });
    lastMs = nowMs;
    unsaid = 0;
  };
};

// The kubelet's prober asks once per connection (its HTTP transport disables
// keep-alive); so does everything here, which keeps a connection's life to one
// short request and lets one timer per connection bound it.
const send = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
  response.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-store",
    Connection: "close",
    ...headers,
  });
  response.end(body);
};

// A probe has no body; one announced is refused rather than read.
const hasBody = (request: IncomingMessage): boolean =>
  request.headers["transfer-encoding"] !== undefined || (request.headers["content-length"] ?? "0") !== "0";

const respond = (request: IncomingMessage, response: ServerResponse, answer: (question: ProbeQuestion) => ProbeVerdict, onBug: (error: unknown) => void): void => {
  const question = QUESTIONS[(request.url ?? "").split("?", 1)[0]!];
  if (question === undefined) return send(response, 404, "not found: ask GET /livez or GET /readyz\n");
  if (request.method !== "GET" && request.method !== "HEAD") return send(response, 405, "method not allowed: ask with GET or HEAD\n", { Allow: "GET, HEAD" });
  if (hasBody(request)) return send(response, 413, "a probe has no body\n");
  let verdict: ProbeVerdict;
  try {
    verdict = answer(question);
  } catch (error) {
    onBug(error);
    return send(response, 500, `${question}: boxinit could not tell (a bug, logged)\n`);
  }
  send(response, verdict.ok ? 200 : 503, probeBody(question, verdict));
};

/** Every connection lives at most connectionMs: a slowloris client (a byte now and then) is cut. */
const boundConnection = (socket: Socket, connectionMs: number): void => {
  const timer = setTimeout(() => socket.destroy(), connectionMs);
  // A probe server must not keep a stopping PID 1 alive.
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
};

const makeServer = (options: ProbeServerOptions, limits: ProbeLimits): Server => {
  const { log } = options;
  const http = process.getBuiltinModule("node:http");
  const onBug = throttledWarning(log, "bug: the probe's answer threw: answered 500");
  const server = http.createServer({ maxHeaderSize: limits.maxHeaderBytes, requireHostHeader: false, headersTimeout: limits.connectionMs, requestTimeout: limits.connectionMs }, (request, response) =>
    respond(request, response, options.answer, (error) => onBug({ error: String(error) })));
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = 1;
  server.keepAliveTimeout = 1;
  server.on("connection", (socket: Socket) => boundConnection(socket, limits.connectionMs));
  const onDrop = throttledWarning(log, `connection refused: ${limits.maxConnections} probe connections are open, the most allowed`);
  server.on("drop", () => onDrop());
  return server;
};

const LISTEN_HINTS: Readonly<Record<string, string>> = {
  EADDRINUSE: "another process in this network namespace listens there (a Pod's containers share one): choose another probe.port",
  EACCES: "ports below 1024 need root or CAP_NET_BIND_SERVICE: choose a probe.port from 1024 up",
  EADDRNOTAVAIL: "no interface has that address",
};

const listenError = (options: ProbeServerOptions, error: unknown): ProbeServerError => {
  const code = (error as NodeJS.ErrnoException).code;
  const where = options.host === undefined ? `port ${options.port}` : `${options.host} port ${options.port}`;
  const hint = code === undefined ? undefined : LISTEN_HINTS[code];
  return new ProbeServerError(`probe server: cannot listen on ${where}: ${(error as Error).message}${hint === undefined ? "" : `; ${hint}`}`, code, error);
};

/**
 * Listen on the port and answer probes until closed. Rejects with a
 * ProbeServerError, already logged, when it cannot listen (port in use, EACCES).
 */
export const startProbeServer = (options: ProbeServerOptions): Promise<ProbeServer> => {
  const limits = { ...PROBE_LIMITS, ...options.limits };
  const server = makeServer(options, limits);
  return new Promise((resolve, reject) => {
    const onListenError = (error: unknown): void => {
      const failure = listenError(options, error);
      options.log.error(PROBE_EVENT, failure.message, { port: options.port, ...(failure.code !== undefined && { error: failure.code }) });
      reject(failure);
    };
    server.once("error", onListenError);
    server.listen({ port: options.port, ...(options.host !== undefined && { host: options.host }) }, () => {
      server.off("error", onListenError);
      // Once listening, an error (accept failing with EMFILE, say) is logged, never thrown into PID 1.
      const onError = throttledWarning(options.log, "probe server error");
      server.on("error", (error: Error) => onError({ error: error.message }));
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : options.port;
      options.log.info(PROBE_EVENT, `answering GET /livez and /readyz on port ${port}`, { port });
      resolve({ port, close: () => closeServer(server) });
    });
  });
};

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

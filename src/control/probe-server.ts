// PID 1's own HTTP answers to a kubelet's httpGet probes: GET /livez and
// GET /readyz on `probe.port`, 200 or 503 with the state in a one-line body,
// so a probe starts no process. Bounded so that a misbehaving client cannot
// hurt PID 1: connections, header bytes, time per connection, no body; and
// per client address, so that one client cannot take the kubelet's turn.
// node:net with probe-server-request.ts's few lines of HTTP, not node:http:
// measured side by side (2000 probes back to back), about 15 % less CPU per
// probe, 0.2 MiB less RssAnon once started and a third less heap growth,
// for a server that needs only a request line (docs/health.md#probes).
import type { Server, Socket } from "node:net";
import type { Logger } from "../log/logger.ts";
import type { LogEvent } from "../log/events.ts";
import { monotonicMs } from "../time/clock.ts";
import { readRequest, responseText } from "./probe-server-request.ts";
import { probeBody, type ProbeQuestion, type ProbeVerdict } from "./probe-server-verdict.ts";

export type { ProbeQuestion, ProbeVerdict };

// Not yet a name in log/events.ts (a file of another change): asked for there.
const PROBE_EVENT: LogEvent = "probe";

export interface ProbeLimits {
  /** Open connections at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
  /** Request line and headers together; more is answered 431 and closed. */
  maxHeaderBytes: number;
  /** A connection's whole life, from accept: a client that is slower is cut. */
  connectionMs: number;
  /** Connections accepted in one second; more are closed at once, unread. */
  maxPerSecond: number;
  /** Open connections at once from one client address: one client cannot hold every slot. */
  maxConnectionsPerSource: number;
  /** Connections from one client address in one second; those refused do not count toward maxPerSecond. */
  maxPerSecondPerSource: number;
}

// A kubelet asks at most three probes a second (startup, liveness, readiness
// at periodSeconds 1), all from the node's address; 50 leaves room for people
// with curl, and keeps a flood's cost to PID 1 (about 0.2 ms of CPU and some
// heap per answer) at a few percent of a core. One address gets at most 4
// open connections and 20 a second, so a single misbehaving client (idle
// connections, a loop of requests) leaves the kubelet its turn; several
// together still can take it (docs/health.md: a NetworkPolicy).
export const PROBE_LIMITS: ProbeLimits = {
  maxConnections: 16, maxHeaderBytes: 4096, connectionMs: 2000, maxPerSecond: 50, maxConnectionsPerSource: 4, maxPerSecondPerSource: 20,
};

export interface ProbeServerOptions {
  port: number;
  /** undefined: every address (the kubelet probes the Pod's IP). */
  host?: string;
  /** Asked on every probe; must not throw (if it does, the probe gets 500 and the bug is logged). */
  answer: (question: ProbeQuestion) => ProbeVerdict;
  log: Logger;
  limits?: Partial<ProbeLimits>;
  /** The clock of the per-second bound and the log's throttle (tests stop it). */
  clockMs?: () => number;
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

// A misbehaving client may repeat its fault thousands of times a second: PID 1's
// log gets one line per kind per interval, with the count since the last one.
const LOG_EVERY_MS = 10_000;

/** Logs the first of a kind of trouble at once, then at most one line per LOG_EVERY_MS with a count. */
const throttledWarning = (log: Logger, message: string, clockMs: () => number): ((fields?: Record<string, string>) => void) => {
  let lastMs = Number.NEGATIVE_INFINITY;
  let unsaid = 0;
  return (fields) => {
    unsaid += 1;
    const nowMs = clockMs();
    if (nowMs - lastMs < LOG_EVERY_MS) return;
    log.warn(PROBE_EVENT, message, { ...fields, count: unsaid });
    lastMs = nowMs;
    unsaid = 0;
  };
};

/** A counter of connections per second of the clock: whether one more may be served. */
export const perSecond = (max: number, clockMs: () => number): (() => boolean) => {
  let windowStartMs = Number.NEGATIVE_INFINITY;
  let count = 0;
  return () => {
    const nowMs = clockMs();
    if (nowMs - windowStartMs >= 1000) {
      windowStartMs = nowMs;
      count = 0;
    }
    count += 1;
    return count <= max;
  };
};

// Addresses counted in one second at most: a flood from ever new addresses
// (IPv6) must not grow the table; past it, an address not yet counted is refused.
const MAX_SOURCES_PER_SECOND = 1024;

/** "::ffff:10.0.0.1" (an IPv4 client of a dual-stack socket) as "10.0.0.1": one client, one key. */
export const sourceOf = (socket: Pick<Socket, "remoteAddress">): string => {
  const address = socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
};

/** Per client address: whether one more connection may be served now (per second, and open at once); `closed` gives a slot back. */
export const perSource = (limits: Pick<ProbeLimits, "maxConnectionsPerSource" | "maxPerSecondPerSource">, clockMs: () => number) => {
  let windowStartMs = Number.NEGATIVE_INFINITY;
  let thisSecond = new Map<string, number>();
  const open = new Map<string, number>();
  return {
    /** "ok", or which bound refuses it. */
    admit(source: string): "ok" | "per-second" | "open" {
      const nowMs = clockMs();
      if (nowMs - windowStartMs >= 1000) {
        windowStartMs = nowMs;
        thisSecond = new Map();
      }
      const count = thisSecond.get(source);
      if (count === undefined && thisSecond.size >= MAX_SOURCES_PER_SECOND) return "per-second";
      thisSecond.set(source, (count ?? 0) + 1);
      if ((count ?? 0) + 1 > limits.maxPerSecondPerSource) return "per-second";
      const openNow = open.get(source) ?? 0;
      if (openNow >= limits.maxConnectionsPerSource) return "open";
      open.set(source, openNow + 1);
      return "ok";
    },
    closed(source: string): void {
      const openNow = open.get(source) ?? 0;
      if (openNow <= 1) open.delete(source);
      else open.set(source, openNow - 1);
    },
  };
};

/** The answer to a question, or 500 when the answer throws (a bug: logged, PID 1 carries on). */
const answerText = (question: ProbeQuestion, isHead: boolean, answer: (question: ProbeQuestion) => ProbeVerdict, onBug: (error: unknown) => void): string => {
  let verdict: ProbeVerdict;
  try {
    verdict = answer(question);
  } catch (error) {
    onBug(error);
    return responseText(500, `${question}: boxinit could not tell (a bug, logged)\n`, isHead);
  }
  return responseText(verdict.ok ? 200 : 503, probeBody(question, verdict), isHead);
};

/**
 * One connection, one request. It lives at most connectionMs from accept (a
 * slowloris client, a byte now and then, is cut); what the client sends after
 * its request's headers is not kept.
 */
const serveConnection = (socket: Socket, options: ProbeServerOptions, limits: ProbeLimits, onBug: (error: unknown) => void): void => {
  const timer = setTimeout(() => socket.destroy(), limits.connectionMs);
  // A probe server must not keep a stopping PID 1 alive.
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  // A reset, or a client gone before its answer: that connection is simply over.
  socket.on("error", () => undefined);
  let text = "";
  let isAnswered = false;
  socket.on("data", (chunk: Buffer) => {
    if (isAnswered) return;
    text += chunk.toString("latin1");
    const read = readRequest(text, limits.maxHeaderBytes);
    if (read.kind === "incomplete") return;
    isAnswered = true;
    text = "";
    socket.end(read.kind === "ask" ? answerText(read.question, read.isHead, options.answer, onBug) : responseText(read.status, read.body, read.isHead, read.headers));
  });
};

/** The server, and its open connections (close() cuts them: net.Server has no closeAllConnections). */
const makeServer = (options: ProbeServerOptions, limits: ProbeLimits, clockMs: () => number): { server: Server; open: Set<Socket> } => {
  const { log } = options;
  const net = process.getBuiltinModule("node:net");
  const bug = throttledWarning(log, "bug: the probe's answer threw: answered 500", clockMs);
  const onBug = (error: unknown): void => bug({ error: String(error) });
  const mayServe = perSecond(limits.maxPerSecond, clockMs);
  const onFlood = throttledWarning(log, `connection refused: more than ${limits.maxPerSecond} probe connections in a second`, clockMs);
  const sources = perSource(limits, clockMs);
  const onSourceFlood = throttledWarning(log, `connection refused: more than ${limits.maxPerSecondPerSource} probe connections in a second from one address`, clockMs);
  const onSourceHolding = throttledWarning(log, `connection refused: ${limits.maxConnectionsPerSource} probe connections from one address are open, the most allowed`, clockMs);
  const open = new Set<Socket>();
  const server = net.createServer((socket) => {
    const source = sourceOf(socket);
    // The address's own bounds first: what one client is refused does not use up everyone's second.
    const admitted = sources.admit(source);
    if (admitted !== "ok") {
      socket.destroy();
      return admitted === "open" ? onSourceHolding({ source }) : onSourceFlood({ source });
    }
    socket.once("close", () => sources.closed(source));
    if (!mayServe()) {
      socket.destroy();
      return onFlood();
    }
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    serveConnection(socket, options, limits, onBug);
  });
  server.maxConnections = limits.maxConnections;
  const onDrop = throttledWarning(log, `connection refused: ${limits.maxConnections} probe connections are open, the most allowed`, clockMs);
  server.on("drop", () => onDrop());
  return { server, open };
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
  const clockMs = options.clockMs ?? monotonicMs;
  const { server, open } = makeServer(options, limits, clockMs);
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
      const onError = throttledWarning(options.log, "probe server error", clockMs);
      server.on("error", (error: Error) => onError({ error: error.message }));
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : options.port;
      options.log.info(PROBE_EVENT, `answering GET /livez and /readyz on port ${port}`, { port });
      resolve({ port, close: () => closeServer(server, open) });
    });
  });
};

const closeServer = (server: Server, open: ReadonlySet<Socket>): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of open) socket.destroy();
  });

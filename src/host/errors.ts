// The host tool's exit codes and the one place its errors are worded: what
// the Docker engine answered, turned into one line that says what to do.
// Each failure a user meets in practice has its own code, so a crontab or a
// deploy script can tell "no engine" from "image not built yet".
import { escapeControls } from "../control/backoff.ts";

/** Exit codes of `boxinit host` (README: "host exit codes"). */
export const HOST_EXIT = {
  ok: 0,
  /** Any other failure: an engine error not listed below, a log file that could not be written. */
  failed: 1,
  /** Bad arguments or a bad book: nothing was done. */
  usage: 2,
  /** `host run`: NAME-production is already running. */
  alreadyRunning: 3,
  /** `host status`: NAME-production is not running (LSB's "program is not running"). */
  notRunning: 3,
  /** `host run`: the backoff file says true, so the box would stop at once. */
  backoff: 4,
  /** `host backoff --wait`: the status did not reach backedoff in time. */
  timeout: 5,
  /** No Docker engine answers at DOCKER_HOST (or /var/run/docker.sock). */
  noEngine: 10,
  /** The engine's socket refuses this user. */
  permissionDenied: 11,
  /** IMAGE:run (or :latest, :previous) does not exist. */
  imageNotFound: 12,
  /** Another container already has the name NAME-production. */
  nameConflict: 13,
  /** A host port of the book is already taken. */
  portInUse: 14,
} as const;

export type HostExitCode = (typeof HOST_EXIT)[keyof typeof HOST_EXIT];

/** An error the host tool reports as one line and an exit code; `cause` keeps the engine's own error. */
export class HostError extends Error {
  readonly exitCode: HostExitCode;
  readonly hint: string | undefined;

  constructor(exitCode: HostExitCode, message: string, hint?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "HostError";
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** The Docker engine's address as the user configured it (for messages). */
export const engineAddress = (env: NodeJS.ProcessEnv): string => env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`;

/** The engine's socket when DOCKER_HOST is unset, as the docker CLI's. */
export const DEFAULT_SOCKET = "/var/run/docker.sock";

/** What docker-modem attaches to an HTTP error, and Node to a socket error. */
interface EngineFailure {
  code?: string;
  syscall?: string;
  statusCode?: number;
  json?: { message?: string } | null;
  message?: string;
}

/** The engine's own words: the JSON `message` when there is one, else the error's text. */
export const engineMessage = (error: unknown): string => {
  const failure = error as EngineFailure;
  const text = failure.json?.message ?? failure.message ?? String(error);
  return text.trim().replace(/\s+/g, " ");
};

// Errors of the connect phase (or the name lookup before it) that mean nobody
// is listening at the address. The same codes later in a request (a reset, a
// timeout) mean an engine that was there and stopped answering: not "start dockerd".
const NO_LISTENER = new Set(["ECONNREFUSED", "ENOENT", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EAI_AGAIN"]);
const CONNECT_SYSCALLS = new Set(["connect", "getaddrinfo"]);

// How the engine words a taken host port: the userland proxy's bind, or its
// own allocator (moby's portallocator, "Bind for 0.0.0.0:8090 failed: port is already allocated").
const PORT_TAKEN = /port is already allocated|address already in use/i;

/** Something the engine was asked to do, for messages: "create confluence-production". */
export interface EngineAction {
  what: string;
  env: NodeJS.ProcessEnv;
}

/**
 * An engine error as a HostError with its exit code and hint. Errors that
 * depend on what was asked (a 404 is "image not found" only for an image) are
 * classified by the caller first; this handles the ones any call can meet.
 */
export const classifyEngineError = (error: unknown, action: EngineAction): HostError => {
  if (error instanceof HostError) return error;
  const failure = error as EngineFailure;
  const address = engineAddress(action.env);
  const code = failure.code ?? "";
  if (code === "EACCES" || code === "EPERM") {
    return new HostError(
      HOST_EXIT.permissionDenied, `${action.what}: permission denied on the Docker socket ${address}`,
      "run as root, or add this user to the docker group (and log in again)", error,
    );
  }
  if (NO_LISTENER.has(code) && CONNECT_SYSCALLS.has(failure.syscall ?? "")) {
    return new HostError(
      HOST_EXIT.noEngine, `${action.what}: no Docker engine answers at ${address} (${code})`,
      "start dockerd, or point DOCKER_HOST at the engine", error,
    );
  }
  if (failure.statusCode === undefined && code !== "") {
    // docker-modem drops a request after 60 s without a byte; the socket says "socket hang up".
    return new HostError(
      HOST_EXIT.failed, `${action.what}: the connection to the Docker engine at ${address} broke: ${engineMessage(error)} (${code})`,
      "the engine may be overloaded, frozen or restarting (60 s without an answer ends a call); try again", error,
    );
  }
  const said = engineMessage(error);
  if (PORT_TAKEN.test(said)) {
    return new HostError(HOST_EXIT.portInUse, `${action.what}: a host port is already in use: ${said}`, "free the port, or change port[].src in the book", error);
  }
  if (failure.statusCode === 409 && /already in use/i.test(said)) {
    return new HostError(HOST_EXIT.nameConflict, `${action.what}: the container name is taken: ${said}`, "remove that container (docker rm) or wait for the other run to finish", error);
  }
  if (/no such image/i.test(said)) {
    return new HostError(HOST_EXIT.imageNotFound, `${action.what}: ${said}`, "build the image and run `boxinit host promote BOOK`", error);
  }
  return new HostError(HOST_EXIT.failed, `${action.what}: the Docker engine answered: ${said}`, undefined, error);
};

/** The one-line report of a HostError, hint included, as printed on stderr. */
export const formatHostError = (error: HostError): string =>
  // Messages quote the engine, the book and files a container can write: escaped, they stay one line.
  `boxinit host: error: ${escapeControls(`${error.message}${error.hint === undefined ? "" : `; ${error.hint}`}`)}\n`;

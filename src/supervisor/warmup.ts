// Warm-up: after a service started, try an HTTP GET or a command until the app
// answers, each try bounded by tryTimeoutMs and the whole by timeoutMs.
// The service is "running" only once this passed.
import { spawn, type ChildProcess } from "node:child_process";
import type { ClientRequest } from "node:http";
import type { UserSpec, WarmupCheck, WarmupConfig } from "../config/types.ts";
import type { StartCheck } from "./check-process.ts";
import { describeEnding } from "./restart-policy.ts";
import type { Logger } from "../log/logger.ts";
import { formatDurationMs } from "../config/duration.ts";
import { monotonicMs, pause } from "../time/clock.ts";

export type WarmupOutcome =
  | { outcome: "ready"; tries: number; elapsedMs: number }
  | { outcome: "timeout"; tries: number; lastProblem: string }
  | { outcome: "aborted" };

export interface WarmupOptions {
  service: string;
  log: Logger;
  /** Aborted when boxinit stops: the warm-up ends at once, a try in flight is cut. */
  signal: AbortSignal;
  /** Environment of a command check (default: boxinit's own). */
  env?: NodeJS.ProcessEnv;
  /** Working directory of a command check (default: boxinit's). */
  cwd?: string;
  /** User of a command check (default: boxinit's; only root can switch). */
  user?: UserSpec;
  /** Starts command checks through the addon; without it Node's spawn is used. */
  startCheck?: StartCheck;
}

type TryResult = { isReady: true } | { isReady: false; problem: string };

/** Bytes of a command check's stderr kept for the problem text: the end says why. */
export const STDERR_TAIL_BYTES = 200;
// A check that exited but whose stderr stays open (a background grandchild
// holds it) would never emit 'close'; this long after 'exit' we stop reading.
const CLOSE_AFTER_EXIT_MS = 100;

const notReady = (problem: string): TryResult => ({ isReady: false, problem });

const describeRequestError = (error: NodeJS.ErrnoException): string => {
  // Happy eyeballs (localhost → ::1 and 127.0.0.1) fails with an AggregateError
  // whose message is empty; its code is the one to show.
  if (error.code === "ECONNREFUSED") return "connection refused";
  return error.message || error.code || String(error);
};

// node:http is loaded on the first try, not at boxinit start-up: most
// containers have no HTTP warm-up, and PID 1's start-up time is measured.
const clientFor = (url: URL): typeof import("node:http") | typeof import("node:https") | undefined => {
  if (url.protocol === "http:") return process.getBuiltinModule("node:http");
  if (url.protocol === "https:") return process.getBuiltinModule("node:https");
  return undefined;
};

/** One GET: any HTTP answer counts (or only 2xx); the body is never read. */
const tryHttp = (check: Extract<WarmupCheck, { kind: "http" }>, tryTimeoutMs: number, stop: AbortSignal): Promise<TryResult> =>
  new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(check.url);
    } catch (error) {
      resolve(notReady(`not a URL: ${JSON.stringify(check.url)}: ${(error as Error).message}`));
      return;
    }
    const client = clientFor(url);
    if (!client) {
      resolve(notReady(`${check.url}: only http: and https: URLs can be checked`));
      return;
    }
    let request: ClientRequest | undefined;
    let isSettled = false;
    const finish = (result: TryResult): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(tryTimer);
      stop.removeEventListener("abort", onStop);
      // agent: false means the socket is ours alone: destroying it is the cleanup.
      request?.destroy();
      resolve(result);
    };
    const tryTimer = setTimeout(() => finish(notReady(`no answer within ${formatDurationMs(tryTimeoutMs)}`)), tryTimeoutMs);
    const onStop = (): void => finish(notReady("no answer yet when the warm-up ended"));
    stop.addEventListener("abort", onStop, { once: true });
    try {
      request = client.get(url, { agent: false, headers: { "user-agent": "boxinit-warmup" } }, (response) => {
        const status = response.statusCode ?? 0;
        // Only the status matters: a large page (Confluence's) is not downloaded.
        response.on("error", (error) => void error); // a reset after the status changes nothing
        response.destroy();
        const isAccepted = check.expect === "any" || (status >= 200 && status <= 299);
        finish(isAccepted ? { isReady: true } : notReady(`answered ${status} ${response.statusMessage ?? ""}`.trimEnd()));
      });
      // Stays attached after finish: destroying a request in flight emits ECONNRESET.
      request.on("error", (error) => finish(notReady(describeRequestError(error))));
    } catch (error) {
      // Synchronous throws: invalid header values or URL parts Node refuses.
      finish(notReady(`${check.url}: ${(error as Error).message}`));
    }
  });

/** SIGKILL a check's whole process group (it was spawned detached: pgid = its pid). */
const killGroup = (child: ChildProcess): void => {
  if (child.pid === undefined) return;
  try {
    // The pgid stays reserved while any member lives, so after the leader is
    // reaped this reaches only its leftovers.
    process.kill(-child.pid, "SIGKILL");
  } catch (error) {
    // ESRCH: the group is gone already. EPERM: a member became another user
    // (a setuid program); nothing more can be done from here, and PID 1 must
    // not throw from a timer.
    void error;
  }
};

const stderrText = (tail: Buffer): string => tail.toString("utf8").replace(/\s+/g, " ").trim();

/** One run of the check command: exit 0 is ready; stderr's last bytes explain a failure. */
/** How a command check is run: the service's environment, directory and user. */
type CheckProcess = Pick<WarmupOptions, "cwd" | "user" | "startCheck"> & { env: NodeJS.ProcessEnv };

/** One run of the check command through the addon (see check-process.ts): same rules as tryCommand. */
const tryStartedCheck = (command: readonly string[], tryTimeoutMs: number, stop: AbortSignal, run: CheckProcess, startCheck: StartCheck): Promise<TryResult> =>
  new Promise((resolve) => {
    const started = startCheck(command, run);
    if ("problem" in started) {
      resolve(notReady(started.problem));
      return;
    }
    const net = process.getBuiltinModule("node:net");
    const output = new net.Socket({ fd: started.outputFd, readable: true, writable: false });
    let tail = Buffer.alloc(0);
    output.on("data", (chunk: Buffer) => {
      tail = Buffer.from(Buffer.concat([tail, chunk]).subarray(-STDERR_TAIL_BYTES));
    });
    // A read error on the pipe only costs the problem text; unhandled, it would kill PID 1.
    output.on("error", (error) => void error);
    let isSettled = false;
    let closeTimer: NodeJS.Timeout | undefined;
    const finish = (result: TryResult): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(tryTimer);
      clearTimeout(closeTimer);
      stop.removeEventListener("abort", onStop);
      output.destroy();
      resolve(result);
    };
    const cut = (problem: string): void => {
      try {
        process.kill(-started.pid, "SIGKILL");
      } catch (error) {
        void error; // ESRCH: gone already
      }
      finish(notReady(problem));
    };
    const tryTimer = setTimeout(() => cut(`still running after ${formatDurationMs(tryTimeoutMs)}, killed`), tryTimeoutMs);
    const onStop = (): void => cut("still running when the warm-up ended");
    stop.addEventListener("abort", onStop, { once: true });
    void started.ended.then((ending) => {
      if (ending.code === 0) return finish({ isReady: true });
      const conclude = (): void => {
        const why = stderrText(tail);
        const ended = describeEnding(ending);
        finish(notReady(why ? `${ended}: ${why}` : ended));
      };
      // The last output explains the failure: let it arrive, briefly.
      if (output.readableEnded) return conclude();
      output.once("end", conclude);
      closeTimer = setTimeout(conclude, CLOSE_AFTER_EXIT_MS);
    });
  });

const tryCommand = (command: readonly string[], tryTimeoutMs: number, stop: AbortSignal, run: CheckProcess): Promise<TryResult> =>
  new Promise((resolve) => {
    const [file = "", ...args] = command;
    let child: ChildProcess;
    try {
      // detached: a process group of its own, so a try that overruns is killed
      // with everything it started (a `sh -c` check runs curl as a grandchild).
      child = spawn(file, args, { detached: true, stdio: ["ignore", "ignore", "pipe"], env: run.env, cwd: run.cwd, uid: run.user?.uid, gid: run.user?.gid });
    } catch (error) {
      // Synchronous throws are argument errors (an empty file name, a NUL byte).
      resolve(notReady(`cannot run ${JSON.stringify(file)}: ${(error as Error).message}`));
      return;
    }
    let tail = Buffer.alloc(0);
    let isSettled = false;
    let closeTimer: NodeJS.Timeout | undefined;
    const finish = (result: TryResult): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(tryTimer);
      clearTimeout(closeTimer);
      stop.removeEventListener("abort", onStop);
      child.stderr?.destroy();
      resolve(result);
    };
    const cut = (problem: string): void => {
      killGroup(child);
      finish(notReady(problem));
    };
    const tryTimer = setTimeout(() => cut(`still running after ${formatDurationMs(tryTimeoutMs)}, killed`), tryTimeoutMs);
    const onStop = (): void => cut("still running when the warm-up ended");
    stop.addEventListener("abort", onStop, { once: true });
    child.stderr?.on("data", (chunk: Buffer) => {
      tail = Buffer.from(Buffer.concat([tail, chunk]).subarray(-STDERR_TAIL_BYTES));
    });
    // A read error on the pipe only costs the problem text; unhandled, it would kill PID 1.
    child.stderr?.on("error", (error) => void error);
    // spawn reports ENOENT/EACCES here, asynchronously, then 'close' with code -errno.
    child.on("error", (error: NodeJS.ErrnoException) => {
      finish(notReady(`cannot run ${JSON.stringify(file)}: ${error.code ?? error.message}`));
    });
    child.on("exit", () => {
      closeTimer = setTimeout(() => child.stderr?.destroy(), CLOSE_AFTER_EXIT_MS);
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      if (code === 0) return finish({ isReady: true });
      const why = stderrText(tail);
      const ended = code !== null ? `exited with code ${code}` : `was killed by ${signal ?? "an unknown signal"}`;
      finish(notReady(why ? `${ended}: ${why}` : ended));
    });
  });

const runTry = (warmup: WarmupConfig, stop: AbortSignal, run: CheckProcess): Promise<TryResult> =>
  warmup.check.kind === "http"
    ? tryHttp(warmup.check, warmup.tryTimeoutMs, stop)
    : run.startCheck
      ? tryStartedCheck(warmup.check.command, warmup.tryTimeoutMs, stop, run, run.startCheck)
      : tryCommand(warmup.check.command, warmup.tryTimeoutMs, stop, run);

/** Try the check until it passes, the overall timeout passes, or the signal aborts. */
export const runWarmup = async (warmup: WarmupConfig, options: WarmupOptions): Promise<WarmupOutcome> => {
  const { service, log, signal } = options;
  if (signal.aborted) return { outcome: "aborted" };
  const startedAt = monotonicMs();
  // One signal for "stop now" (abort or deadline), so a try in flight is cut by either.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const deadlineTimer = setTimeout(() => stop.abort(), warmup.timeoutMs);
  try {
    let lastProblem: string | undefined;
    for (let tries = 1; ; tries++) {
      const result = await runTry(warmup, stop.signal, { env: options.env ?? process.env, cwd: options.cwd, user: options.user, startCheck: options.startCheck });
      if (signal.aborted) return { outcome: "aborted" };
      if (result.isReady) {
        const elapsedMs = Math.round(monotonicMs() - startedAt);
        log.info("warmup-passed", "warm-up passed", { service, tries, elapsedMs });
        return { outcome: "ready", tries, elapsedMs };
      }
      log.debug("warmup-try", "warm-up try failed", { service, try: tries, problem: result.problem });
      // Aborted here means the deadline cut this try (a try that finished on its
      // own resumes us before any timer runs): an earlier try's problem, when
      // there is one, says more than "cut short".
      if (stop.signal.aborted) return { outcome: "timeout", tries, lastProblem: lastProblem ?? result.problem };
      lastProblem = result.problem;
      await pause(warmup.intervalMs, stop.signal);
      if (signal.aborted) return { outcome: "aborted" };
      if (stop.signal.aborted) return { outcome: "timeout", tries, lastProblem };
    }
  } finally {
    clearTimeout(deadlineTimer);
    signal.removeEventListener("abort", onAbort);
  }
};

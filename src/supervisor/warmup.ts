// Warm-up: after a service started, try an HTTP GET or a command until the app
// answers, each try bounded by tryTimeoutMs and the whole by timeoutMs.
// The service is "running" only once this passed.
import type { ClientRequest } from "node:http";
import type { UserSpec, WarmupCheck, WarmupConfig } from "../config/types.ts";
import { checkStarter, type StartCheck } from "./check-process.ts";
import { killGroup } from "../pid1/send-signal.ts";
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
  /** Starts command checks (addonCheckStarter); without it Node's spawn is used. */
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

const stderrText = (tail: Buffer): string => tail.toString("utf8").replace(/\s+/g, " ").trim();

/** How a command check is run: the service's environment, directory and user. */
type CheckProcess = Pick<WarmupOptions, "cwd" | "user"> & { env: NodeJS.ProcessEnv; startCheck: StartCheck };

/**
 * One run of the check command: exit 0 is ready; the last bytes of its output
 * explain a failure. A try that overruns (or is cut by the warm-up's end) is
 * SIGKILLed with its whole process group: a `sh -c` check runs curl as a grandchild.
 */
const tryCommand = (command: readonly string[], tryTimeoutMs: number, stop: AbortSignal, run: CheckProcess): Promise<TryResult> =>
  new Promise((resolve) => {
    const started = run.startCheck(command, run);
    if ("problem" in started) {
      resolve(notReady(started.problem));
      return;
    }
    const { output } = started;
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
      // The pgid stays reserved while any member lives, so after the leader
      // is reaped this reaches only its leftovers.
      killGroup(started.pid);
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
      // The last output explains the failure: let it arrive, briefly (a
      // background grandchild may hold the pipe open for ever).
      if (output.readableEnded) return conclude();
      output.once("end", conclude);
      closeTimer = setTimeout(conclude, CLOSE_AFTER_EXIT_MS);
    });
  });

const runTry = (warmup: WarmupConfig, stop: AbortSignal, run: CheckProcess): Promise<TryResult> =>
  warmup.check.kind === "http"
    ? tryHttp(warmup.check, warmup.tryTimeoutMs, stop)
    : tryCommand(warmup.check.command, warmup.tryTimeoutMs, stop, run);

/** Try the check until it passes, the overall timeout passes, or the signal aborts. */
export const runWarmup = async (warmup: WarmupConfig, options: WarmupOptions): Promise<WarmupOutcome> => {
  const { service, log, signal } = options;
  if (signal.aborted) return { outcome: "aborted" };
  const startedAt = monotonicMs();
  const startCheck = options.startCheck ?? checkStarter(undefined);
  // One signal for "stop now" (abort or deadline), so a try in flight is cut by either.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const deadlineTimer = setTimeout(() => stop.abort(), warmup.timeoutMs);
  try {
    let lastProblem: string | undefined;
    for (let tries = 1; ; tries++) {
      const result = await runTry(warmup, stop.signal, { env: options.env ?? process.env, cwd: options.cwd, user: options.user, startCheck });
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

// The container's probes from boxinit's own knowledge. With `probe.port` in
// the box's config, httpGet on PID 1's /livez and /readyz: no process per
// probe. Without, exec of `boxinit health --live|--ready`: a whole Node start
// each time (100-110 ms of CPU; 0.8-1.3 s under a 50m CPU limit), so longer
// timeouts and periods. The startupProbe asks the liveness question: a box held
// by backoff from its start is never ready, and must not be killed for that.
import type { Probe } from "kubernetes-types/core/v1.js";
import type { Config } from "../config/types.ts";

interface ProbeTimes {
  timeoutSeconds: number;
  readinessPeriodSeconds: number;
  livenessPeriodSeconds: number;
  startupPeriodSeconds: number;
}

// PID 1 answers in milliseconds; 2 s holds a CPU-throttled answer.
const HTTP_TIMES: ProbeTimes = { timeoutSeconds: 2, readinessPeriodSeconds: 5, livenessPeriodSeconds: 10, startupPeriodSeconds: 5 };
// 5 s: four times the slowest measured exec under a 50m limit. The periods
// keep the two probes at 5-11 ms of CPU a second (a tenth to a fifth of 50m).
const EXEC_TIMES: ProbeTimes = { timeoutSeconds: 5, readinessPeriodSeconds: 15, livenessPeriodSeconds: 30, startupPeriodSeconds: 10 };

/** Room over the boot's own bounds for init scripts and a slow node. */
const BOOT_MARGIN_MS = 60_000;

/**
 * How long a boot may take before the box is running or has given up: each
 * service's pidfile wait and warm-up, one after the other (the worst case of
 * `after:` chains), and a margin.
 */
export const bootBudgetMs = (config: Config): number =>
  config.services.reduce((sum, service) => sum + (service.pidfile === undefined ? 0 : service.pidfileTimeoutMs) + (service.warmup?.timeoutMs ?? 0), BOOT_MARGIN_MS);

/** The boxinit to exec in the container: the argv's own when it names one, else found on PATH. */
export const boxinitPath = (argv: readonly string[]): string => {
  const first = argv[0];
  return first !== undefined && /(^|\/)boxinit$/.test(first) ? first : "boxinit";
};

type Question = "live" | "ready";

const action = (config: Config, question: Question, boxinit: string): Probe =>
  config.probePort === undefined
    ? { exec: { command: [boxinit, "health", `--${question}`] } }
    : { httpGet: { path: `/${question}z`, port: config.probePort } };

export interface BoxProbes {
  startupProbe: Probe;
  readinessProbe: Probe;
  livenessProbe: Probe;
}

/** startup (live, for the boot's budget), readiness (ready) and liveness (live). */
export const boxProbes = (config: Config, boxinit: string): BoxProbes => {
  const times = config.probePort === undefined ? EXEC_TIMES : HTTP_TIMES;
  const startupFailures = Math.ceil(bootBudgetMs(config) / 1000 / times.startupPeriodSeconds);
  return {
    startupProbe: {
      ...action(config, "live", boxinit), timeoutSeconds: times.timeoutSeconds, periodSeconds: times.startupPeriodSeconds, failureThreshold: startupFailures,
    },
    readinessProbe: {
      ...action(config, "ready", boxinit), timeoutSeconds: times.timeoutSeconds, periodSeconds: times.readinessPeriodSeconds, failureThreshold: 2,
    },
    livenessProbe: {
      ...action(config, "live", boxinit), timeoutSeconds: times.timeoutSeconds, periodSeconds: times.livenessPeriodSeconds, failureThreshold: 3,
    },
  };
};

// PID 1's own answers to kubelet httpGet probes (probe.port): the server is
// control/probe-server.ts; this is what it is asked about, the box in memory.
// A port that cannot be opened fails the boot before anything starts
// (docs/health.md#probes): a Pod whose probes can never pass would only be
// killed over and over, later and with a less clear reason.
import type { Logger } from "../log/logger.ts";
import { ProbeServerError, startProbeServer, type ProbeServer } from "../control/probe-server.ts";
import { probeAnswer, type ProbeSnapshot } from "../control/probe-server-verdict.ts";

/** What the probes read of a box: its state, exit code once known, and services. */
export interface ProbedBox {
  readonly state: string;
  readonly exitCode: number | undefined;
  readonly services: ReadonlyArray<{ readonly name: string; readonly state: string }>;
}

const snapshotOf = (box: ProbedBox): ProbeSnapshot => ({
  state: box.state,
  exitCode: box.exitCode,
  services: Object.fromEntries(box.services.map((service) => [service.name, { state: service.state }])),
});

/**
 * Start answering /livez and /readyz for the box, when a port is configured.
 * undefined: no port; "failed": the server could not listen (already logged).
 */
export const startBoxProbes = async (port: number | undefined, box: ProbedBox, log: Logger): Promise<ProbeServer | undefined | "failed"> => {
  if (port === undefined) return undefined;
  try {
    return await startProbeServer({ port, log, answer: (question) => probeAnswer(question, snapshotOf(box)) });
  } catch (error) {
    // A ProbeServerError was logged by the server with its hint; anything else is a bug, said here.
    if (!(error instanceof ProbeServerError)) log.error("internal-error", `the probe server could not start: ${(error as Error).stack ?? String(error)}`);
    return "failed";
  }
};

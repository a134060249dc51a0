// A finished run judged: boxinit's exit code for it, the result word of its
// record, and the report's wording (a pure function of how it ended).
import { formatDurationMs } from "../config/duration.ts";
import { exitCodeFor } from "../pid1/exit-code.ts";
import { signalLabel } from "../pid1/signals.ts";
import type { JobResult } from "./job-status.ts";
import type { Ran } from "./job-process.ts";
import type { JobSpec } from "./types.ts";

/** GNU timeout's code for "the command timed out". */
export const TIMEOUT_EXIT_CODE = 124;

/** What judge says about a run. */
export interface Verdict {
  exitCode: number;
  result: JobResult;
  outcome: string;
  signal: string | null;
}

/** Exit code, result word and the report's wording for a finished run. */
export const judge = (ran: Pick<Ran, "ending" | "notStarted" | "timedOut">, spec: Pick<JobSpec, "timeoutMs">): Verdict => {
  if (ran.notStarted) return { exitCode: ran.notStarted.exitCode, result: "failed", outcome: `not started: ${ran.notStarted.problem} (exit ${ran.notStarted.exitCode})`, signal: null };
  const ending = ran.ending!;
  const signal = ending.signal === null ? null : signalLabel(ending.signal);
  if (ran.timedOut) {
    const how = signal ? `${signal}` : `exit ${exitCodeFor(ending)}`;
    return { exitCode: TIMEOUT_EXIT_CODE, result: "timeout", outcome: `timed out after ${formatDurationMs(spec.timeoutMs ?? 0)}, ended by ${how} (exit ${TIMEOUT_EXIT_CODE})`, signal };
  }
  const exitCode = exitCodeFor(ending);
  if (signal) return { exitCode, result: "signal", outcome: `killed by ${signal} (exit ${exitCode})`, signal };
  return { exitCode, result: exitCode === 0 ? "ok" : "failed", outcome: `exit ${exitCode}`, signal };
};

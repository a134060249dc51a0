// What PID 1's probe server answers, from the box's state in memory (pure):
// the same two questions as `boxinit health --live|--ready`, decided by the
// same rules (health-verdict.ts), so an httpGet probe and an exec probe agree.
import { judgeHealth } from "./health-verdict.ts";
import { isoTime } from "../time/iso-time.ts";

export type ProbeQuestion = "live" | "ready";

export interface ProbeVerdict {
  ok: boolean;
  /** One line: the state, and when not ok why not. */
  why: string;
}

/** What the box knows of itself, as it would publish it in status.json. */
export interface ProbeSnapshot {
  state: string;
  /** Set once PID 1 knows how it will exit: then it no longer manages the box. */
  exitCode?: number | undefined;
  services?: Readonly<Record<string, { state: string }>>;
}

// The heartbeat rule of health-verdict.ts guards against a frozen or dead
// writer of status.json. An answer from PID 1's own event loop proves it is
// neither, so the snapshot is judged as one written this very moment.
const JUST_WRITTEN = isoTime(0);
const NOW_MS = 0;

/** The verdict on one question for the box as it is now. */
export const probeAnswer = (question: ProbeQuestion, box: ProbeSnapshot): ProbeVerdict => {
  const verdict = judgeHealth(question, { state: box.state, exitCode: box.exitCode, services: box.services, updatedAt: JUST_WRITTEN }, NOW_MS, Number.POSITIVE_INFINITY);
  // judgeHealth's healthy wording names the heartbeat's age, which means nothing here.
  return verdict.isHealthy ? { ok: true, why: box.state } : { ok: false, why: verdict.why };
};

/** The one-line body of an answer: `ready: running`, `not ready: state is backedoff, not running`. */
export const probeBody = (question: ProbeQuestion, verdict: ProbeVerdict): string =>
  `${verdict.ok ? "" : "not "}${question}: ${verdict.why.replace(/[\r\n]+/g, " ")}\n`;

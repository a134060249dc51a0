// What the harness's parts share (run-job.ts, job-process.ts, hook.ts): the
// spec of one run and what it runs with. Here so that the parts do not import
// each other in a circle.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { UserSpec } from "../config/types.ts";
import type { Passthrough } from "./passthrough.ts";
import type { RetentionPolicy } from "./retention.ts";

export interface JobSpec {
  name: string;
  command: readonly string[];
  /** Added to boxinit's own (the container's) environment. */
  env: Readonly<Record<string, string>>;
  cwd?: string;
  user?: UserSpec;
  /** undefined: no time limit. */
  timeoutMs?: number;
  /** After a timeout's SIGTERM, SIGKILL follows after this. */
  killGraceMs: number;
  onFailure?: readonly string[];
  hookTimeoutMs: number;
  captureBytes: number;
  retention: RetentionPolicy;
  stateDir: string;
  /** The backoff file checked before a run: config.backoffFile (STATE_DIR/backoff unless backoff.file moves it, e.g. into a ConfigMap directory). */
  backoffFile: string;
  hostname: string;
  /** How long to wait for a running instance to finish; 0: skip at once. */
  waitMs: number;
  passthrough: Passthrough;
}

export interface JobContext {
  native: Native | undefined;
  reaper: Reaper;
  log: Logger;
}

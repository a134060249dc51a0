// A batch book (`kube.schedule`) as a CronJob. Kubernetes' own guards are not
// enough: concurrencyPolicy Forbid can still let two runs overlap, and a failed
// Job is retried 6 times by default. So the container runs `boxinit job NAME`
// (boxinit's lock in the state directory, its failure report, its backoff
// check), backoffLimit is 0 (the harness decided), and the deadline comes from
// the job's own timeout.
import type { CronJob } from "kubernetes-types/batch/v1.js";
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import { parseDurationMs } from "../config/duration.ts";
import type { Config } from "../config/types.ts";
import { DEFAULT_STARTING_DEADLINE_S } from "./book-kube.ts";
import type { Book } from "./book-types.ts";
import { processWords } from "./kube-pod.ts";
import { GRACE_MARGIN_S } from "./kube-types.ts";

export interface BatchJob {
  name: string;
  timeoutMs: number;
}

const JOB_HINT = "a batch book's command is `job NAME [--timeout D] [-- CMD ...]` (boxinit's job harness: its lock and failure report), after boxinit as the entrypoint";

/** `--timeout D` or `--timeout=D` before `--` in a `boxinit job` argv. */
const timeoutInArgv = (words: readonly string[]): string | undefined => {
  for (let index = 0; index < words.length && words[index] !== "--"; index++) {
    const word = words[index]!;
    if (word === "--timeout") return words[index + 1];
    if (word.startsWith("--timeout=")) return word.slice("--timeout=".length);
  }
  return undefined;
};

/**
 * The job a batch book runs: `job NAME` in its argv (after boxinit, which is
 * the image's ENTRYPOINT when the book keeps it), and its timeout from the
 * argv or the box's config. Problems go to `errors`.
 */
export const batchJobOf = (book: Book, config: Config, errors: string[]): BatchJob | undefined => {
  const words = processWords(book);
  const start = book.entrypoint === false ? 0 : /(^|\/)boxinit$/.test(words[0] ?? "") ? 1 : -1;
  const name = start >= 0 && words[start] === "job" ? words[start + 1] : undefined;
  if (name === undefined || name.startsWith("-")) {
    errors.push(`command: expected ${JOB_HINT}, got ${JSON.stringify(words)}`);
    return undefined;
  }
  const written = timeoutInArgv(words.slice(start + 2));
  const timeoutMs = written === undefined ? config.jobs.find((job) => job.name === name)?.timeoutMs : parseDurationMs(written);
  if (timeoutMs === undefined || timeoutMs === 0) {
    const got = written === undefined ? "none" : JSON.stringify(written);
    errors.push(`command: job ${name}: expected a timeout (--timeout D in the command, or timeout: in the box config's jobs.${name}), got ${got}: activeDeadlineSeconds comes from it, and a run that never ends would hold every later one (concurrencyPolicy Forbid)`);
    return undefined;
  }
  return { name, timeoutMs };
};

/** The Job's deadline: the run's timeout, its on_failure hook's, boxinit's grace, a margin. */
export const activeDeadlineSeconds = (job: BatchJob, config: Config): number => {
  const hookMs = config.jobs.find((entry) => entry.name === job.name && entry.onFailure !== undefined)?.onFailureTimeoutMs ?? 0;
  return Math.ceil((job.timeoutMs + hookMs + config.graceMs) / 1000) + GRACE_MARGIN_S;
};

/** The CronJob: Forbid, a starting deadline, no retries, restartPolicy Never, suspend false (true is its backoff). */
export const cronJob = (book: Book, name: string, labels: Record<string, string>, deadlineS: number, template: PodTemplateSpec): CronJob => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name, labels },
  spec: {
    schedule: book.kube!.schedule!,
    ...(book.kube?.timeZone !== undefined && { timeZone: book.kube.timeZone }),
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: book.kube?.startingDeadlineS ?? DEFAULT_STARTING_DEADLINE_S,
    suspend: false,
    successfulJobsHistoryLimit: 1,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      metadata: { labels },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: deadlineS,
        template: { ...template, spec: { ...template.spec!, restartPolicy: "Never" } },
      },
    },
  },
});

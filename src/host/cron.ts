// `boxinit host cron BOOK [--run]`: the seed's Ruby cron wrapper, in its
// order. Running → leave it; backoff true → leave everything; exited 0 →
// remove; exited otherwise → save its logs, then remove; then, with --run,
// start the next run. Each decision is one line on stdout, so the mail cron
// sends says what happened.
import { join } from "node:path";
import type Dockerode from "dockerode";
import { BACKOFF_FILE, checkBackoff } from "../control/backoff.ts";
import { LOGS_DIR } from "../jobs/report.ts";
import type { Book } from "./book-types.ts";
import { BOOK_LABEL, containerName } from "./container-spec.ts";
import { engineCall, findContainer, type Engine } from "./engine.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import { saveFailureLog } from "./failure-log.ts";
import type { HostOutput } from "./output.ts";
import { startContainer } from "./start.ts";

/** What the cron wrapper does about the container it found. */
export type CronDecision = "leave-running" | "leave-backoff" | "nothing-there" | "remove" | "save-and-remove";

/** The container as the decision needs it: absent, or its state. */
export interface ContainerFacts {
  /** Docker's State.Status: created, running, paused, restarting, removing, exited, dead. */
  status: string;
  exitCode: number;
}

// The engine is still working on these: touching them would race it (a
// restart policy bringing it back, a removal already under way).
const BUSY_STATUSES = new Set(["running", "paused", "restarting", "removing"]);

/**
 * The seed's decision, in the seed's order. The backoff file is read only
 * when the decision gets that far: a running box is left alone whatever the
 * file holds, even one that cannot be read.
 */
export const decideCron = (container: ContainerFacts | undefined, isBackoffEngaged: () => boolean): CronDecision => {
  if (container !== undefined && BUSY_STATUSES.has(container.status)) return "leave-running";
  if (isBackoffEngaged()) return "leave-backoff";
  if (container === undefined) return "nothing-there";
  return container.exitCode === 0 ? "remove" : "save-and-remove";
};

export const factsOf = (info: Dockerode.ContainerInspectInfo | undefined): ContainerFacts | undefined =>
  info === undefined ? undefined : { status: info.State.Status, exitCode: info.State.ExitCode };

/**
 * Is HOME/backoff engaged? Unexpected content is said, as boxinit itself logs
 * it, and counts as not engaged. A file that exists but cannot be read stops
 * everything: acting on a guess could restart a box someone is holding down.
 */
export const isBackoffOn = (book: Book, out: HostOutput): boolean => {
  const value = checkBackoff(book.home);
  const file = join(book.home, BACKOFF_FILE);
  if (value.readError !== undefined) {
    throw new HostError(HOST_EXIT.failed, `${file}: cannot read it (${value.readError}), so whether backoff is engaged is unknown: nothing was done`, "make it a readable regular file");
  }
  if (value.unexpected !== undefined) out.say(`${file}: unexpected content "${value.unexpected}": not engaged (only "true" engages it)`);
  return value.engaged;
};

/** Whether `host run` created this container from this book (its label says so). */
export const isFromBook = (info: Dockerode.ContainerInspectInfo, book: Book): boolean => info.Config.Labels?.[BOOK_LABEL] === book.name;

/**
 * Remove the run that was inspected, and only that one: if it was started
 * again meanwhile (a `docker start` by hand), its StartedAt changed and this
 * run's decision no longer holds. Not forced either, so a running one is refused.
 */
const removeContainer = async (engine: Engine, info: Dockerode.ContainerInspectInfo, book: Book): Promise<void> => {
  const name = info.Name.replace(/^\//, "");
  const now = await findContainer(engine, info.Id);
  if (now !== undefined && now.State.StartedAt !== info.State.StartedAt) {
    throw new HostError(HOST_EXIT.failed, `${name} was started again while cron looked at it (at ${now.State.StartedAt}): left alone`, `run \`boxinit host cron ${book.file}\` again`);
  }
  if (now === undefined) return; // removed by someone else meanwhile: the outcome wanted
  await engineCall(engine, `remove ${name}`, async (docker) => await docker.getContainer(info.Id).remove({ v: false }));
};

/** The line cron says when it leaves things as they are (pure). */
export const leaveLine = (decision: "leave-running" | "leave-backoff", book: Book, info: Dockerode.ContainerInspectInfo | undefined): string => {
  const name = containerName(book);
  if (decision === "leave-running") return `${name}: ${info!.State.Status} since ${info!.State.StartedAt}: nothing to do`;
  const what = info === undefined ? "no container" : `${info.State.Status} (exit ${info.State.ExitCode})`;
  return `${name}: ${what}; backoff is engaged (${join(book.home, BACKOFF_FILE)} says true): nothing to do`;
};

/**
 * The seed's wrapper up to the removal: decide, and act on a finished (or
 * missing) container, one line each. Leaving things alone is the caller's to
 * say (cron says "nothing to do", run refuses). A failed run's logs that
 * cannot be saved keep the container (and fail), so nothing is lost.
 */
export const cleanUpFinished = async (engine: Engine, book: Book, out: HostOutput): Promise<{ decision: CronDecision; info: Dockerode.ContainerInspectInfo | undefined }> => {
  const name = containerName(book);
  const info = await findContainer(engine, name);
  const decision = decideCron(factsOf(info), () => isBackoffOn(book, out));
  if ((decision === "remove" || decision === "save-and-remove") && !isFromBook(info!, book)) {
    // Not ours to delete: a container made by hand (or by the seed's script) under the same name.
    throw new HostError(
      HOST_EXIT.nameConflict, `${name} exists (${info!.State.Status}, exit ${info!.State.ExitCode}) but was not created by boxinit host from this book (no label ${BOOK_LABEL}=${book.name}): left alone`,
      `remove it yourself (docker rm ${name}) once its logs are saved`,
    );
  }
  if (decision === "nothing-there") out.say(`${name}: no container`);
  if (decision === "remove") {
    await removeContainer(engine, info!, book);
    out.say(`${name}: exited 0 at ${info!.State.FinishedAt}: removed`);
  }
  if (decision === "save-and-remove") {
    const saved = await saveLogsOrKeep(engine, book, info!);
    await removeContainer(engine, info!, book);
    out.say(`${name}: exited ${info!.State.ExitCode} at ${info!.State.FinishedAt}: logs saved to ${join(book.home, saved)}; removed`);
  }
  return { decision, info };
};

const saveLogsOrKeep = async (engine: Engine, book: Book, info: Dockerode.ContainerInspectInfo): Promise<string> => {
  try {
    return await saveFailureLog(engine, info, book.name, book.home);
  } catch (error) {
    if (error instanceof HostError) throw error;
    throw new HostError(
      HOST_EXIT.failed, `${containerName(book)}: exited ${info.State.ExitCode}, but its logs could not be saved under ${join(book.home, LOGS_DIR)}: ${(error as Error).message}`,
      "the container is kept; fix the directory and run cron again", error,
    );
  }
};

/** `host cron BOOK [--run]`: clean up as the seed did, then start the next run when asked. */
export const cronBook = async (engine: Engine, book: Book, out: HostOutput, shouldRun: boolean): Promise<number> => {
  const { decision, info } = await cleanUpFinished(engine, book, out);
  if (decision === "leave-running" || decision === "leave-backoff") {
    out.say(leaveLine(decision, book, info));
    return HOST_EXIT.ok;
  }
  if (shouldRun) await startContainer(engine, book, out);
  return HOST_EXIT.ok;
};

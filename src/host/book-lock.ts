// One host command at a time changes a book's container: `host run` and
// `host cron` take HOME/jobs/.host.lock (the jobs' flock, so a holder that
// dies releases it). Without it, a cron line firing while someone types
// `host run` could see the other's fresh "created" container as finished and
// remove it between its create and its start.
import { hostname } from "node:os";
import { loadNative } from "../native/addon.ts";
import { tryJobLock, type JobLock } from "../jobs/lock.ts";
import { processStartTime } from "../pid1/proc-table.ts";
import { OWN_DIR_MODE } from "../jobs/own-dir.ts";
import { makeDirs } from "../control/dir-handle.ts";
import { errnoCode } from "../control/atomic-write.ts";
import type { Book } from "./book-types.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import type { HostOutput } from "./output.ts";
import { isoTime } from "../time/iso-time.ts";

/** The lock's name in HOME/jobs/: a dot, so no job's sanitised name can be it. */
export const HOST_LOCK_NAME = ".host";

/** The lock taken (or undefined where none can be made), or who holds it. */
export type BookLock = { lock: JobLock | undefined } | { heldBy: string };

/**
 * Try the book's lock once. A lock that cannot be made (HOME read-only to
 * this user) is said and gone without: the seed had none.
 */
export const lockBook = (book: Book, verb: string, out: HostOutput): BookLock => {
  const me = {
    pid: process.pid, startTime: processStartTime(process.pid), host: hostname(),
    runId: `host-${verb}`, startedAt: isoTime(),
  };
  // A first `host cron` or `host run` of a book finds no HOME yet: made as a job run makes its state directory.
  let attempt: ReturnType<typeof tryJobLock>;
  try {
    makeDirs(book.home, OWN_DIR_MODE);
    attempt = tryJobLock(book.home, HOST_LOCK_NAME, me, loadNative().native);
  } catch (error) {
    attempt = { kind: "unavailable", reason: errnoCode(error) ?? (error as Error).message };
  }
  if (attempt.kind === "unavailable") {
    out.say(`cannot lock ${book.home}/jobs/${HOST_LOCK_NAME}.lock (${attempt.reason}): going on without protection against a concurrent run or cron`);
    return { lock: undefined };
  }
  if (attempt.kind === "held") {
    return { heldBy: attempt.owner === undefined ? "another process" : `pid ${attempt.owner.pid} (boxinit ${attempt.owner.runId.replace("-", " ")}, since ${attempt.owner.startedAt})` };
  }
  return { lock: attempt.lock };
};

/** `host run` refuses while another command holds the book (exit 3). */
export const heldError = (book: Book, heldBy: string): HostError =>
  new HostError(HOST_EXIT.alreadyRunning, `${book.name}: another boxinit host command is at work on this book: ${heldBy}`, "let it finish, then try again");

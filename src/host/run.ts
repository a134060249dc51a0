// `boxinit host run BOOK`: refuse while the container runs or backoff is
// engaged, handle a finished one as cron does, then start a new one.
import { join } from "node:path";
import { BACKOFF_FILE } from "../control/backoff.ts";
import type { Book } from "./book-types.ts";
import { BOOK_LABEL, containerName } from "./container-spec.ts";
import { cleanUpFinished, isFromBook } from "./cron.ts";
import type { Engine } from "./engine.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import type { HostOutput } from "./output.ts";
import { startContainer } from "./start.ts";

/**
 * `host run`: refuse while it runs or while backoff is engaged, handle an
 * exited one as cron does, then start it.
 */
export const runBook = async (engine: Engine, book: Book, out: HostOutput): Promise<number> => {
  const name = containerName(book);
  const { decision, info } = await cleanUpFinished(engine, book, out);
  if (decision === "leave-running" && !isFromBook(info!, book)) {
    throw new HostError(
      HOST_EXIT.nameConflict, `${name} is ${info!.State.Status} but was not created by boxinit host from this book (no label ${BOOK_LABEL}=${book.name})`,
      `stop and remove it yourself (docker stop ${name} && docker rm ${name}) to let the book take the name`,
    );
  }
  if (decision === "leave-running") {
    throw new HostError(
      HOST_EXIT.alreadyRunning, `${name} is already ${info!.State.Status} (since ${info!.State.StartedAt})`,
      `to replace it, stop it first: \`boxinit host backoff ${book.file} on --wait\`, then off, then run`,
    );
  }
  if (decision === "leave-backoff") {
    throw new HostError(
      HOST_EXIT.backoff, `${name}: not started: backoff is engaged (${join(book.home, BACKOFF_FILE)} says true), so the box would stop at once`,
      `\`boxinit host backoff ${book.file} off\`, then run again`,
    );
  }
  await startContainer(engine, book, out);
  return HOST_EXIT.ok;
};

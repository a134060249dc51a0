// `boxinit host backoff BOOK on|off [--wait] [--timeout D]`: write HOME/backoff
// (atomically, as `boxinit backoff` does inside), and with --wait follow the
// box down until its status says backedoff, within a bound.
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describeBackoffWrite, writeBackoffWord, type BackoffWord } from "../control/backoff-write.ts";
import { formatDurationMs } from "../config/duration.ts";
import { readStatus } from "../control/status-read.ts";
import type { Book } from "./book-types.ts";
import { containerName } from "./container-spec.ts";
import { findContainer, type Engine } from "./engine.ts";
import { isFromEarlierRun } from "./status.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import type { HostOutput } from "./output.ts";

/** How long --wait waits by default: a Confluence-sized stop, with room. */
export const DEFAULT_BACKOFF_WAIT_MS = 120_000;

// The box reacts within milliseconds (inotify); the stop itself takes the
// services' time. A quarter second is quick enough to see and cheap to poll.
const POLL_INTERVAL_MS = 250;

/** What the box is doing, as far as --wait cares (pure over the two reads). */
export type WaitProgress = "backedoff" | "stopped-otherwise" | "no-container" | "stopping";

export const judgeProgress = (statusState: string | undefined, container: { isRunning: boolean } | undefined): WaitProgress => {
  if (statusState === "backedoff") return "backedoff";
  if (container === undefined) return "no-container";
  // Exited without writing backedoff: crashed, killed, or stopped for another reason.
  if (!container.isRunning) return "stopped-otherwise";
  return "stopping";
};

const waitForBackedoff = async (engine: Engine, book: Book, out: HostOutput, timeoutMs: number): Promise<number> => {
  const name = containerName(book);
  const startedMs = Date.now();
  for (;;) {
    let read = readStatus(book.home);
    const info = await findContainer(engine, name);
    // Read again once the container is seen ended: a box that wrote backedoff
    // and exited between the read above and the inspect is judged by its last word.
    if (info !== undefined && !info.State.Running) read = readStatus(book.home);
    const state = read.ok && !isFromEarlierRun(read.document.updatedAt, info?.State.StartedAt) ? read.document.state : undefined;
    const progress = judgeProgress(state, info === undefined ? undefined : { isRunning: info.State.Running });
    const took = formatDurationMs(Date.now() - startedMs);
    if (progress === "backedoff") {
      const exit = info === undefined ? "no container" : info.State.Running ? "still running (exiting)" : `exited ${info.State.ExitCode}`;
      out.say(`${name}: status backedoff after ${took}; ${exit}`);
      return HOST_EXIT.ok;
    }
    if (progress === "no-container") {
      out.say(`${name}: no container: nothing to wait for; the next start will do nothing while backoff is on`);
      return HOST_EXIT.ok;
    }
    if (progress === "stopped-otherwise") {
      const state = read.ok ? read.document.state : "unknown (no status.json)";
      // (A status of an earlier run is shown as it is: the exit code says what this run did.)
      throw new HostError(HOST_EXIT.failed, `${name}: exited ${info!.State.ExitCode} with status ${state}, not backedoff`, `see \`boxinit host status ${book.file}\` and docker logs ${name}`);
    }
    if (Date.now() - startedMs >= timeoutMs) {
      const state = read.ok ? read.document.state : "unknown";
      throw new HostError(HOST_EXIT.timeout, `${name}: status still ${state} after ${took}, not backedoff`, "backoff stays on: the box stops when it can; wait longer with --timeout");
    }
    await sleep(POLL_INTERVAL_MS);
  }
};

/** Write the word; with --wait (on only), follow the box until it has backed off. */
export const backoffBook = async (engine: Engine | undefined, book: Book, out: HostOutput, word: BackoffWord, waitMs: number | undefined): Promise<number> => {
  // Backoff before the first run is a real case (hold a box that was never
  // started): make HOME as `docker run -v` would, rather than refuse.
  try {
    mkdirSync(book.home, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new HostError(HOST_EXIT.failed, `${book.home}: cannot create the state directory: ${(error as Error).message}`, "create it, or fix home: in the book", error);
  }
  const written = writeBackoffWord(book.home, word);
  if (!written.ok) throw new HostError(HOST_EXIT.failed, written.message, written.hint);
  out.say(describeBackoffWrite(word, written));
  if (waitMs === undefined || engine === undefined) return HOST_EXIT.ok;
  if (word === "off") {
    out.say("--wait: nothing to wait for after off (the next start is `boxinit host cron --run` or `host run`)");
    return HOST_EXIT.ok;
  }
  return await waitForBackedoff(engine, book, out, waitMs);
};

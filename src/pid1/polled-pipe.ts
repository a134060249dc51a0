// The read end of a warm-up check's output pipe, read without a stream. The
// first net.Socket of a run loads node:net and Node's stream machinery, about
// 8 ms on the path from start to `running` (bench scenario 7), for a check
// that is usually over in a millisecond. The fd is non-blocking: what is in
// it is read every POLL_INTERVAL_MS while the check runs, and at once when it
// has ended, so its last words are there when its end is handled. It emits
// what a Readable would: 'data' (a Buffer), 'end', 'error', 'close'.
import { EventEmitter } from "node:events";
import { closeSync, readSync } from "node:fs";

/** A child's output as the warm-up reads it: a Readable, or a PolledPipe. */
export interface ProcessOutput {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  once(event: "end" | "close", listener: () => void): unknown;
  readonly readableEnded: boolean;
  destroy(): unknown;
}

// A check that fills its 64 KiB pipe faster than this waits on it (as with
// any slow reader); only the tail of its output is kept anyway.
const POLL_INTERVAL_MS = 50;
const READ_BYTES = 64 * 1024;
// Per turn: a check writing without end must not hold PID 1's event loop.
const MAX_READS_PER_TURN = 16;

let readBuffer: Buffer | undefined;

export class PolledPipe extends EventEmitter implements ProcessOutput {
  #fd: number | undefined;
  #isEnded = false;
  readonly #timer: NodeJS.Timeout;

  /** fd: a non-blocking read end, now this object's to close; drained once more when childEnded settles. */
  constructor(fd: number, childEnded: Promise<unknown>) {
    super();
    this.#fd = fd;
    this.#timer = setInterval(() => this.#drain(), POLL_INTERVAL_MS);
    void childEnded.then(() => this.#drain());
  }

  get readableEnded(): boolean {
    return this.#isEnded;
  }

  destroy(): this {
    this.#close();
    return this;
  }

  #drain(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    readBuffer ??= Buffer.allocUnsafe(READ_BYTES);
    for (let reads = 0; reads < MAX_READS_PER_TURN; reads++) {
      let bytes: number;
      try {
        bytes = readSync(fd, readBuffer, 0, READ_BYTES, null);
      } catch (error) {
        const { code } = error as NodeJS.ErrnoException;
        if (code === "EAGAIN") return; // nothing more for now
        if (code === "EINTR") continue;
        this.#close();
        this.emit("error", error);
        return;
      }
      if (bytes === 0) {
        this.#close();
        this.#isEnded = true;
        this.emit("end");
        return;
      }
      // Copied: the buffer is read into again.
      this.emit("data", Buffer.from(readBuffer.subarray(0, bytes)));
    }
  }

  #close(): void {
    clearInterval(this.#timer);
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing to release.
    }
    this.emit("close");
  }
}

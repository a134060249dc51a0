// The read end of a child's output pipe, read without a stream while the
// child may still be short-lived. The first net.Socket of a run loads
// node:net and Node's stream machinery: about 8 ms, on the path from start to
// `running` (a warm-up check, bench scenario 7) or to a job's end (scenario
// 8), for a child that is often over in a millisecond. The fd is
// non-blocking: what is in it is read every POLL_INTERVAL_MS while the child
// runs, and at once when it has ended, so its last words are there when its
// end is handled. With `streamAfterFirstPoll` (a job's output, which must
// flow at any rate while it runs) a child still running at the first poll is
// read through a net.Socket from then on: loaded while the child works. It
// emits what a Readable would: 'data' (a Buffer), 'end', 'error', 'close'.
import { EventEmitter } from "node:events";
import { closeSync, readSync } from "node:fs";
import type { Socket } from "node:net";
import type { Native } from "../native/addon.ts";

/** A child's output as its reader sees it: a Readable, or a PolledPipe. */
export interface ProcessOutput {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  once(event: "end" | "close", listener: () => void): unknown;
  readonly readableEnded: boolean;
  destroy(): unknown;
}

// A child that fills its 64 KiB pipe faster than this waits on it (as with
// any slow reader) until the poll, or the socket, reads it.
const POLL_INTERVAL_MS = 50;
const READ_BYTES = 64 * 1024;
// Per turn: a child writing without end must not hold PID 1's event loop.
const MAX_READS_PER_TURN = 16;

let readBuffer: Buffer | undefined;

export interface PolledPipeOptions {
  /** A child still running at the first poll is read through a socket from then on. */
  streamAfterFirstPoll?: boolean;
}

export class PolledPipe extends EventEmitter implements ProcessOutput {
  #fd: number | undefined;
  #socket: Socket | undefined;
  #isEnded = false;
  #isRefed = true;
  readonly #timer: NodeJS.Timeout;
  readonly #options: PolledPipeOptions;

  /** fd: a non-blocking read end, now this object's to close; drained once more when childEnded settles. */
  constructor(fd: number, childEnded: Promise<unknown>, options: PolledPipeOptions = {}) {
    super();
    this.#fd = fd;
    this.#options = options;
    this.#timer = setInterval(() => this.#poll(), POLL_INTERVAL_MS);
    void childEnded.then(() => this.#drain());
  }

  get readableEnded(): boolean {
    return this.#isEnded;
  }

  /** Whether a socket reads the pipe now (streamAfterFirstPoll, the child still running at the first poll). */
  get isStreaming(): boolean {
    return this.#socket !== undefined;
  }

  destroy(): this {
    if (this.#socket) this.#socket.destroy();
    else if (this.#release()) this.emit("close");
    return this;
  }

  /** Stop keeping boxinit's event loop alive for this pipe (reading goes on). */
  unref(): this {
    this.#isRefed = false;
    this.#timer.unref();
    this.#socket?.unref();
    return this;
  }

  #poll(): void {
    this.#drain();
    if (this.#options.streamAfterFirstPoll && this.#fd !== undefined) this.#stream(this.#fd);
  }

  // From now on a socket reads the fd (what was there is read already);
  // its events are this object's.
  #stream(fd: number): void {
    clearInterval(this.#timer);
    this.#fd = undefined;
    const net = process.getBuiltinModule("node:net");
    const socket = new net.Socket({ fd, readable: true, writable: false });
    this.#socket = socket;
    if (!this.#isRefed) socket.unref();
    socket.on("data", (chunk: Buffer) => this.emit("data", chunk));
    socket.on("end", () => {
      this.#isEnded = true;
      this.emit("end");
    });
    socket.on("error", (error) => this.emit("error", error));
    socket.on("close", () => this.emit("close"));
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
        this.#release();
        this.emit("error", error);
        this.emit("close");
        return;
      }
      if (bytes === 0) {
        this.#release();
        this.#isEnded = true;
        this.emit("end");
        this.emit("close");
        return;
      }
      // Copied: the buffer is read into again.
      this.emit("data", Buffer.from(readBuffer.subarray(0, bytes)));
    }
  }

  /** Stop polling and close the fd; false when it was closed (or handed to the socket) already. */
  #release(): boolean {
    clearInterval(this.#timer);
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd === undefined) return false;
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing to release.
    }
    return true;
  }
}

/**
 * A child's pipe read end, now the returned reader's: a PolledPipe when the
 * addon can make it non-blocking, else a socket (a copy of the addon without
 * setNonBlocking reads as every copy did before).
 */
export const readChildOutput = (
  fd: number, native: Pick<Native, "setNonBlocking">, childEnded: Promise<unknown>, options: PolledPipeOptions = {},
): PolledPipe | Socket =>
  native.setNonBlocking(fd)
    ? new PolledPipe(fd, childEnded, options)
    : new (process.getBuiltinModule("node:net").Socket)({ fd, readable: true, writable: false });

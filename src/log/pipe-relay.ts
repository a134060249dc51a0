// Reading one service stream's pipe for a LineRelay: one read buffer shared
// by every relay, reads paused while the sink is full (the service then
// blocks on its pipe, as with a slow reader of its own), resumed when the
// sink has made room.
import type { LineRelay } from "./line-relay.ts";
import type { OutputSink } from "./output-sink.ts";

// Every relay reads into this one buffer (net's onread), again and again: a
// chunk is consumed or copied out before the callback returns, so they can
// share it. A stream's 'data' events would allocate 64 KiB per read, and a
// service writing 50 MB/s made PID 1's memory grow faster than GC returned it.
const READ_BUFFER_BYTES = 64 * 1024;
let sharedReadBuffer: Buffer | undefined;

// What a full sink leaves of a read is copied into one of these, lent while
// the relay waits and given back after: a fresh buffer per wait was garbage
// that raised PID 1's memory with a slow reader.
const spareHoldBuffers: Buffer[] = [];
const MAX_SPARE_HOLD_BUFFERS = 4;

/** Relays fd (a pipe's read end) into sink through lines; `done` resolves at end of file with every line in the sink. */
export class PipeRelay {
  readonly done: Promise<void>;
  readonly #sink: OutputSink;
  readonly #lines: LineRelay;
  readonly #socket: import("node:net").Socket;
  /** What a full sink left of the last chunk: [0, #heldBytes) of #held, a lent buffer. */
  #held: Buffer | undefined;
  #heldBytes = 0;
  #hasEnded = false;
  #isFinished = false;
  #resolve: () => void = () => {};

  constructor(fd: number, sink: OutputSink, lines: LineRelay) {
    this.#sink = sink;
    this.#lines = lines;
    this.done = new Promise((resolve) => { this.#resolve = resolve; });
    sharedReadBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const net = process.getBuiltinModule("node:net");
    this.#socket = new net.Socket({
      fd,
      readable: true,
      writable: false,
      onread: { buffer: sharedReadBuffer, callback: (bytes: number, buffer: Uint8Array): boolean => this.#feed(buffer, 0, bytes) },
    });
    this.#socket.on("end", () => this.#finish());
    // A read error on our own pipe ends the relay; the service itself is unaffected.
    this.#socket.on("error", () => this.#finish());
  }

  /** Consumes input[from, to); false when the sink filled up: the rest is held and reading waits for room. */
  #feed(input: Uint8Array, from: number, to: number): boolean {
    let at = this.#lines.consume(input, from, to);
    while (at < to) {
      if (!this.#sink.flush()) {
        this.#hold(input, at, to);
        this.#socket.pause();
        this.#sink.whenRoom(() => this.#retry());
        return false;
      }
      at = this.#lines.consume(input, at, to);
    }
    this.#sink.flushSoon();
    return true;
  }

  #hold(input: Uint8Array, from: number, to: number): void {
    // input is the held buffer itself when a retry filled the sink again.
    const buffer = input === this.#held ? this.#held : spareHoldBuffers.pop() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
    if (input === buffer) buffer.copyWithin(0, from, to);
    else buffer.set(input.subarray(from, to));
    this.#held = buffer;
    this.#heldBytes = to - from;
  }

  #retry(): void {
    const held = this.#held;
    if (held) {
      if (!this.#feed(held, 0, this.#heldBytes)) return;
      this.#held = undefined;
      if (spareHoldBuffers.length < MAX_SPARE_HOLD_BUFFERS) spareHoldBuffers.push(held);
    }
    if (this.#hasEnded) this.#finish();
    else this.#socket.resume();
  }

  #finish(): void {
    this.#hasEnded = true;
    if (this.#isFinished || this.#held) return;
    if (!this.#lines.end()) {
      // The unfinished last line did not fit: once there is room. When the
      // flush wrote everything at once no write is in flight to wake a
      // waiter: try again on the next turn (the sink is empty then).
      if (this.#sink.flush()) setImmediate(() => this.#finish());
      else this.#sink.whenRoom(() => this.#finish());
      return;
    }
    this.#sink.flush();
    this.#isFinished = true;
    this.#resolve();
  }
}

// Service output when several processes share the container's stdout/stderr:
// each line is prefixed with the service's name ("web | listening on 8080"),
// so the log stays readable. One service alone keeps its output untouched.
import { closeSync } from "node:fs";
import { writeBytes } from "./logger.ts";
import { monotonicMs, settleBefore } from "../time/clock.ts";

/** A line longer than this is written in pieces, each ended by CUT_MARKER, rather than held. */
export const MAX_LINE_BYTES = 64 * 1024;

/** Ends a piece of a line that was longer than MAX_LINE_BYTES; the rest follows on the next line. */
export const CUT_MARKER = " [boxinit: line longer than 64 KiB, cut; it goes on in the next line]\n";

const NEWLINE = 0x0a;

/**
 * Bytes in, prefixed lines out, in bounded memory whatever the input: one
 * buffer of prefix + MAX_LINE_BYTES + marker per stream, filled by copying (a
 * chunk is never held, so neither is the 64 KiB read buffer behind it). A
 * line is handed to `emit` as a view of that buffer, valid until the next push.
 */
export class LineSplitter {
  readonly #line: Buffer;
  readonly #prefixBytes: number;
  #used: number;
  readonly #emit: (line: Buffer) => void;

  constructor(prefix: string, emit: (line: Buffer) => void) {
    const prefixBytes = Buffer.from(prefix);
    this.#line = Buffer.allocUnsafe(prefixBytes.length + MAX_LINE_BYTES + Buffer.byteLength(CUT_MARKER));
    prefixBytes.copy(this.#line);
    this.#prefixBytes = prefixBytes.length;
    this.#used = this.#prefixBytes;
    this.#emit = emit;
  }

  /** Take the next chunk of output; every complete (or over-long) line is emitted. */
  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const lineEnd = newline === -1 ? chunk.length : newline;
      const room = MAX_LINE_BYTES - (this.#used - this.#prefixBytes);
      if (lineEnd - start > room) {
        // Too long to hold: what fits goes out now, marked, and the line goes on.
        this.#append(chunk.subarray(start, start + room));
        this.#flush(CUT_MARKER);
        start += room;
        continue;
      }
      this.#append(chunk.subarray(start, lineEnd));
      if (newline === -1) return;
      this.#flush("\n");
      start = newline + 1;
    }
  }

  /** End of output: a last line without a newline gets one. */
  end(): void {
    if (this.#used > this.#prefixBytes) this.#flush("\n");
  }

  #append(bytes: Uint8Array): void {
    this.#line.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  #flush(ending: string): void {
    this.#used += this.#line.write(ending, this.#used);
    this.#emit(this.#line.subarray(0, this.#used));
    this.#used = this.#prefixBytes;
  }
}

// Each relay reads into one buffer of its own, again and again (net's onread):
// a stream's 'data' events would allocate a fresh 64 KiB buffer per read, and
// a service writing 50 MB/s made PID 1's memory grow faster than GC returned it.
const READ_BUFFER_BYTES = 64 * 1024;

/** Copy fd to `to`, prefixing every line; resolves at end of file. */
const relayLines = (fd: number, to: number, prefix: string): Promise<void> =>
  new Promise((resolve) => {
    const net = process.getBuiltinModule("node:net");
    // Bytes, not text: a line is cut by size whatever its encoding, and no string is built per chunk.
    const lines = new LineSplitter(prefix, (line) => writeBytes(to, line));
    const socket = new net.Socket({
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (bytes: number, buffer: Uint8Array): boolean => {
          lines.push(buffer.subarray(0, bytes));
          return true; // keep reading
        },
      },
    });
    let isFinished = false;
    const finish = (): void => {
      if (isFinished) return;
      isFinished = true;
      lines.end();
      resolve();
    };
    socket.on("end", finish);
    // A read error on our own pipe ends the relay; the service itself is unaffected.
    socket.on("error", finish);
  });

/** What prefixedOutput needs of the addon (native/addon.ts): log/ is a leaf and does not import it. */
export interface PipeMaker {
  /** A pipe, [read end, write end], close-on-exec in boxinit. */
  makePipe(): [number, number];
}

/**
 * Pipes for a process whose output gets prefixed: returns the write ends for
 * the spawn (which closes them in boxinit) and starts relaying the read ends.
 */
export const prefixedOutput = (native: PipeMaker, name: string): { outFd: number; errFd: number } => {
  const [outRead, outWrite] = native.makePipe();
  let errPipe: [number, number];
  try {
    errPipe = native.makePipe();
  } catch (error) {
    // Out of fds (EMFILE) half way: give the first pipe back before the caller retries.
    closeSync(outRead);
    closeSync(outWrite);
    throw error;
  }
  const [errRead, errWrite] = errPipe;
  const prefix = `${name} | `;
  track(relayLines(outRead, 1, prefix));
  track(relayLines(errRead, 2, prefix));
  return { outFd: outWrite, errFd: errWrite };
};

// Relays still reading: a process's last lines may sit in its pipe after it
// was reaped, and process.exit would drop them.
const relaying = new Set<Promise<void>>();

const track = (relay: Promise<void>): void => {
  relaying.add(relay);
  void relay.then(() => relaying.delete(relay));
};

/** Wait until every relay has reached end of file, or timeoutMs; call before exiting. */
export const drainServiceOutput = async (timeoutMs: number): Promise<void> => {
  if (relaying.size === 0) return;
  await settleBefore(Promise.all(relaying), monotonicMs() + timeoutMs);
};

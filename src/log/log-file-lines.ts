import type { PrefixLines } from "./output-sink.ts";
import { isoTime } from "../time/iso-time.ts";

// What a service's log file holds per line: the time it arrived (ISO-8601
// UTC, milliseconds), the stream ("out" or "err"), then the line as the
// service wrote it. Built per batch into one reused buffer, so that a batch
// of lines costs one write(2), not one per line (docs/logging.md).

/** The tag after the time: which stream a line came from. Fixed width, so a reader can cut it off. */
export const STREAM_TAGS = { stdout: "out ", stderr: "err " } as const;

export type OutputStream = keyof typeof STREAM_TAGS;

/** Every line's head: "2026-12-02T10:43:01.123Z err " (without timestamps: "err "). */
export class LinePrefixes {
  readonly #hasTimestamps: boolean;
  readonly #now: () => number;
  #atMs = Number.NaN;
  readonly #cached: Record<OutputStream, Buffer | undefined> = { stdout: undefined, stderr: undefined };

  constructor(hasTimestamps: boolean, now: () => number = Date.now) {
    this.#hasTimestamps = hasTimestamps;
    this.#now = now;
  }

  /** The head for this stream now; the same Buffer within one millisecond (a batch takes one). */
  current(stream: OutputStream): Buffer {
    if (!this.#hasTimestamps) return (this.#cached[stream] ??= Buffer.from(STREAM_TAGS[stream]));
    const nowMs = this.#now();
    if (nowMs !== this.#atMs) {
      this.#atMs = nowMs;
      this.#cached.stdout = undefined;
      this.#cached.stderr = undefined;
    }
    return (this.#cached[stream] ??= Buffer.from(`${isoTime(nowMs)} ${STREAM_TAGS[stream]}`));
  }
}

/** The addon's loop that copies head + line for each whole line (native/relay.c's prefixLines; log/ does not import the addon). */
export type { PrefixLines } from "./output-sink.ts";

const RESULT = new Int32Array(2);
// Lines reach the writer bounded (the relay cuts them at 64 KiB); no limit of its own.
const ANY_LINE = 0x7fffffff;

// A batch's buffer is kept for the next one up to this size; a bigger one
// (a rare batch of very long lines) is let go after its write.
const KEPT_BUFFER_BYTES = 256 * 1024;

/** One growable byte buffer, reused from batch to batch. */
export class OutputBuffer {
  #bytes = Buffer.allocUnsafe(64 * 1024);
  /** Bytes used. */
  length = 0;

  /**
   * Append head + source[start, end). The head (about 30 bytes) is copied
   * byte by byte: for lines of about 100 bytes a native call per piece
   * costs more than the copy (bench/log-file-cost.ts).
   */
  appendLine(head: Buffer, source: Buffer, start: number, end: number): void {
    const needed = this.length + head.length + end - start + 1;
    if (needed > this.#bytes.length) this.#grow(needed);
    const bytes = this.#bytes;
    let at = this.length;
    for (let index = 0; index < head.length; index++) bytes[at++] = head[index]!;
    source.copy(bytes, at, start, end);
    this.length = at + end - start;
  }

  /**
   * With the addon's loop: the whole lines of source[from, to), each behind
   * head, while they fit in `room` more bytes (the buffer grows as needed);
   * returns where it stopped: `to`, a line that does not fit in room, or an
   * unfinished last line.
   */
  appendLines(format: PrefixLines, head: Buffer, source: Buffer, from: number, to: number, room: number): number {
    for (let at = from; ;) {
      const limit = Math.min(this.#bytes.length, this.length + room);
      format(source, at, to, head, this.#bytes, this.length, limit, ANY_LINE, RESULT);
      room -= RESULT[1]! - this.length;
      this.length = RESULT[1]!;
      at = RESULT[0]!;
      if (at >= to) return at;
      const newline = source.indexOf(0x0a, at);
      const needed = head.length + newline + 1 - at;
      if (newline === -1 || needed > room) return at;
      this.#grow(this.length + needed + to - at); // stopped for the buffer's size: grow, go on
    }
  }

  /** Append a newline (a last line that came without one). */
  appendNewline(): void {
    this.#bytes[this.length++] = 0x0a;
  }

  /** The bytes from `start` to the end, as a view (valid until the next append or reset). */
  from(start: number): Buffer {
    return this.#bytes.subarray(start, this.length);
  }

  /** Empty it for the next batch; an oversized buffer is dropped. */
  reset(): void {
    this.length = 0;
    if (this.#bytes.length > KEPT_BUFFER_BYTES) this.#bytes = Buffer.allocUnsafe(64 * 1024);
  }

  #grow(needed: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.#bytes.length * 2));
    this.#bytes.copy(bigger, 0, 0, this.length);
    this.#bytes = bigger;
  }
}

/** How many lines a batch holds (a last one without a newline counts). */
export const countLines = (bytes: Uint8Array): number => {
  let count = 0;
  let at = 0;
  for (let newline = bytes.indexOf(0x0a); newline !== -1; newline = bytes.indexOf(0x0a, at)) {
    count++;
    at = newline + 1;
  }
  return at < bytes.length ? count + 1 : count;
};

// One bounded buffer in front of boxinit's stdout (and one in front of its
// stderr, or one for both when they are the same pipe or terminal): relays
// append whole lines, and the buffer goes out in one write per batch. A
// partly written batch is finished before anything else is written, so
// lines from different services (and boxinit's own log lines) never mix.
// When the reader is slow the buffer fills and relays stop reading their
// pipes (the services block, as on a pipe); PID 1 itself never waits.
import { openWriter, targetKey, type GrowPipe, type SinkWriter } from "./sink-writers.ts";

/** The buffer of a sink: relays may fill it up to RELAY_BYTES; the rest is kept for boxinit's own lines. */
export const SINK_BYTES = 256 * 1024;
const RESERVED_BYTES = 64 * 1024;
export const RELAY_BYTES = SINK_BYTES - RESERVED_BYTES;

const copyBytes = Buffer.prototype.copy;

/** The addon's prefixLines (native/relay.c): writes [next from, next outAt] into result. */
export type PrefixLines = (input: Uint8Array, from: number, to: number, prefix: Uint8Array, output: Uint8Array, outAt: number, outEnd: number, maxLine: number, result: Int32Array) => void;
const formatResult = new Int32Array(2);

/** Bytes out, in whole batches, never blocking the caller. */
export class OutputSink {
  readonly #writer: SinkWriter;
  readonly #buffer = Buffer.allocUnsafe(SINK_BYTES);
  /** [#start, #end) waits to be written; [#start, #flightEnd) is being written. */
  #start = 0;
  #end = 0;
  #flightEnd = 0;
  #isWriting = false;
  #isFlushDue = false;
  #waiters: Array<() => void> = [];
  #drainWaiters: Array<() => void> = [];
  /** Lines of boxinit's own dropped because the sink was full (the reader stalled). */
  droppedLines = 0;

  constructor(writer: SinkWriter) {
    this.#writer = writer;
  }

  /** How fd was found and is written (sink-writers.ts). */
  get how(): string {
    return this.#writer.how;
  }

  /** Bytes dropped by the writer (reader gone, write error) and lines of boxinit's own dropped while full. */
  get dropped(): { bytes: number; lines: number } {
    return { bytes: this.#writer.droppedBytes, lines: this.droppedLines };
  }

  /** Whether nothing is waiting or being written. */
  get isIdle(): boolean {
    return this.#end === 0 && !this.#isWriting;
  }

  /** Room a relay may still fill (a relay never takes the reserve). */
  relayRoom(): number {
    this.#compact();
    return Math.max(0, RELAY_BYTES - this.#end);
  }

  /** Appends prefix + source[from, to) when it fits in the relays' room; false when it does not (write, then wait). */
  appendLine(prefix: Uint8Array, source: Uint8Array, from: number, to: number): boolean {
    const length = prefix.length + to - from;
    if (this.#end + length > RELAY_BYTES && this.relayRoom() < length) return false;
    const buffer = this.#buffer;
    let at = this.#end;
    // Prefixes are short (a service name): a loop beats a call into set() here.
    for (let i = 0; i < prefix.length; i++) buffer[at++] = prefix[i]!;
    // Buffer's copy (a fast call) allocates nothing; set(source.subarray()) made
    // a view per line, and collecting them cost PID 1 more than the copying.
    copyBytes.call(source, buffer, at, from, to);
    this.#end = at + to - from;
    return true;
  }

  /**
   * Appends the whole lines of source[from, to) that fit, each behind prefix,
   * with the addon's loop (native/relay.c); returns where it stopped: at a
   * line longer than maxLine, an unfinished one, or one that does not fit.
   */
  appendLines(format: PrefixLines, prefix: Uint8Array, source: Uint8Array, from: number, to: number, maxLine: number): number {
    if (this.#end + prefix.length >= RELAY_BYTES) {
      this.#compact();
      // boxinit's own lines may have gone past the relays' room into the reserve.
      if (this.#end >= RELAY_BYTES) return from;
    }
    format(source, from, to, prefix, this.#buffer, this.#end, RELAY_BYTES, maxLine, formatResult);
    this.#end = formatResult[1]!;
    return formatResult[0]!;
  }

  /** Appends as much of source[from, to) as the relays' room takes, unchanged; returns how much. */
  appendRaw(source: Uint8Array, from: number, to: number): number {
    const taken = Math.min(to - from, this.relayRoom());
    this.#buffer.set(source.subarray(from, from + taken), this.#end);
    this.#end += taken;
    return taken;
  }

  /**
   * One line of boxinit's own (its log, a job's prefixed line): written now
   * when nothing waits before it, else after what waits; dropped whole (and
   * counted) when even the reserve is full, never cut, never waited for.
   */
  writeWhole(bytes: Uint8Array): void {
    this.#compact();
    if (this.#end + bytes.length > SINK_BYTES) {
      this.droppedLines++;
      return;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
    this.flush();
  }

  /** Starts writing what waits; returns true when all of it went out at once. */
  flush(): boolean {
    while (!this.#isWriting && this.#end > this.#start) {
      this.#flightEnd = this.#end;
      this.#isWriting = true;
      const isDone = this.#writer.write(this.#buffer.subarray(this.#start, this.#flightEnd), () => this.#written());
      if (!isDone) return false;
      this.#advance();
    }
    const isIdle = this.isIdle;
    if (isIdle && this.#drainWaiters.length > 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
    return isIdle;
  }

  /**
   * Flushes once the current event-loop turn has read what it will: the
   * chunks of several services read in one turn go out in one write.
   */
  flushSoon(): void {
    if (this.#isFlushDue) return;
    this.#isFlushDue = true;
    setImmediate(() => {
      this.#isFlushDue = false;
      this.flush();
    });
  }

  /** Calls wake once after the next write that made room; a relay waits so, with its pipe unread. */
  whenRoom(wake: () => void): void {
    this.#waiters.push(wake);
  }

  /** Resolves once everything appended so far is written (or dropped). */
  drained(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #written(): void {
    this.#advance();
    this.flush();
    // Waiters run in the order they came; each may fill the room again and wait anew.
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #advance(): void {
    this.#isWriting = false;
    this.#start = this.#flightEnd;
    if (this.#start === this.#end) this.#start = this.#end = this.#flightEnd = 0;
  }

  /** Moves what waits to the front, when no write holds the buffer. */
  #compact(): void {
    if (this.#start === 0 || this.#isWriting) return;
    this.#buffer.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = this.#flightEnd = 0;
  }
}

// One sink per target: fd 1 and fd 2 open on the same pipe or terminal share
// one, so that a stdout line and a stderr line never cut into each other.
const sinksByTarget = new Map<string, OutputSink>();
const sinksByFd = new Map<number, OutputSink>();

/** The sink for fd (1 or 2), made on first use (growPipe: the addon's, when it has one). */
export const sinkFor = (fd: number, growPipe?: GrowPipe): OutputSink => {
  let sink = sinksByFd.get(fd);
  if (sink) return sink;
  const key = targetKey(fd);
  sink = key === undefined ? undefined : sinksByTarget.get(key);
  if (!sink) {
    sink = new OutputSink(openWriter(fd, growPipe));
    if (key !== undefined) sinksByTarget.set(key, sink);
  }
  sinksByFd.set(fd, sink);
  return sink;
};

/** The sink for fd when a relay has made one (writeBytes then goes through it), else undefined. */
export const activeSink = (fd: number): OutputSink | undefined => sinksByFd.get(fd);

/** Every sink made so far (to drain them before exiting). */
export const allSinks = (): OutputSink[] => [...new Set(sinksByFd.values())];

// The lines of one stream of one service, from its pipe into an OutputSink:
// prefixed ("web | ") or passed unchanged, a line longer than 64 KiB cut into
// marked pieces, and every complete line also handed unprefixed to an
// optional copy (a log file). Work is per read chunk, not per line: the
// chunk's lines are formatted straight into the sink's buffer, and the copy
// gets the chunk's whole lines as one view.
import type { OutputSink, PrefixLines } from "./output-sink.ts";

/** A line longer than this is written in pieces, each ended by CUT_MARKER, rather than held. */
export const MAX_LINE_BYTES = 64 * 1024;

/** Ends a piece of a line that was longer than MAX_LINE_BYTES; the rest follows on the next line. */
export const CUT_MARKER = " [boxinit: line longer than 64 KiB, cut; it goes on in the next line]\n";

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.from("\n");
const CUT_BYTES = Buffer.from(CUT_MARKER);

/** Which of a service's streams a line came from. */
export type StreamName = "stdout" | "stderr";

/** Receives a service's complete lines, unprefixed (issue 18's log files). */
export interface LineCopy {
  /**
   * lines: one or more whole lines, each ending in "\n" (a cut piece ends in
   * CUT_MARKER); a view valid only during the call. Called once or twice per
   * read chunk, never per line, so a slow write costs per batch.
   */
  write(lines: Uint8Array, stream: StreamName): void;
}

/**
 * Turns chunks of a stream into lines in a sink. Stateful (the unfinished
 * last line is carried over, bounded by MAX_LINE_BYTES), never holds a chunk:
 * what it consumes is copied out before consume returns.
 */
export class LineRelay {
  readonly #sink: OutputSink;
  /** undefined: bytes go to the sink unchanged (one service alone, relayed only for its copy). */
  readonly #prefix: Uint8Array | undefined;
  readonly #copy: LineCopy | undefined;
  readonly #stream: StreamName;
  /** The unfinished last line (and, while it is written out, its ending). */
  #carry = Buffer.allocUnsafe(0);
  #carried = 0;
  /** Whole lines of the current chunk not yet given to the copy: [#runStart, #runEnd). */
  #runStart = 0;
  #runEnd = 0;

  /** The addon's loop over whole lines, when it has one (much cheaper per line than JavaScript's). */
  readonly #format: PrefixLines | undefined;

  constructor(sink: OutputSink, prefix: string | undefined, copy: LineCopy | undefined, stream: StreamName, format?: PrefixLines) {
    this.#sink = sink;
    this.#format = format;
    this.#prefix = prefix === undefined ? undefined : Buffer.from(prefix);
    this.#copy = copy;
    this.#stream = stream;
  }

  /**
   * Takes input[from, to) into the sink, line by line; returns how far it
   * got: less than `to` when the sink is full (flush it, wait for room, call
   * again with the rest).
   */
  consume(input: Uint8Array, from: number, to: number): number {
    if (this.#prefix === undefined) {
      // Unchanged bytes out; the lines are only cut for the copy.
      const taken = this.#sink.appendRaw(input, from, to);
      if (this.#copy) this.#walk(input, from, from + taken, undefined);
      return from + taken;
    }
    return this.#walk(input, from, to, this.#prefix);
  }

  /** End of the stream: an unfinished last line gets a newline. false: no room yet (wait, call again). */
  end(): boolean {
    if (this.#carried === 0) return true;
    return this.#emitPiece(Buffer.alloc(0), 0, 0, NEWLINE_BYTES, this.#prefix);
  }

  #walk(input: Uint8Array, from: number, to: number, prefix: Uint8Array | undefined): number {
    let at = from;
    this.#runStart = this.#runEnd = from;
    while (at < to) {
      if (this.#format && prefix && this.#carried === 0) {
        // As many whole lines as fit in one call; the line it stopped at is taken below.
        const next = this.#sink.appendLines(this.#format, prefix, input, at, to, MAX_LINE_BYTES);
        if (next > at) {
          if (this.#runEnd !== at) this.#runStart = at;
          at = this.#runEnd = next;
          if (at >= to) break;
        }
      }
      let newline = input.indexOf(NEWLINE, at);
      if (newline >= to) newline = -1;
      const lineEnd = newline === -1 ? to : newline;
      if (this.#carried === 0 && newline !== -1 && lineEnd - at <= MAX_LINE_BYTES) {
        // The common case: a whole line inside the chunk, straight into the sink.
        if (prefix && !this.#sink.appendLine(prefix, input, at, newline + 1)) break;
        if (this.#runEnd !== at) this.#runStart = at;
        at = this.#runEnd = newline + 1;
        continue;
      }
      this.#copyRun(input);
      const room = MAX_LINE_BYTES - this.#carried;
      if (lineEnd - at > room) {
        // Too long to hold: what fits goes out now, marked, and the line goes on.
        if (!this.#emitPiece(input, at, at + room, CUT_BYTES, prefix)) break;
        at += room;
      } else if (newline === -1) {
        this.#hold(input, at, lineEnd);
        at = lineEnd;
      } else {
        if (!this.#emitPiece(input, at, lineEnd, NEWLINE_BYTES, prefix)) break;
        at = newline + 1;
      }
    }
    this.#copyRun(input);
    return at;
  }

  /** The carried line + input[from, to) + ending, out as one line; false (nothing changed) when the sink has no room. */
  #emitPiece(input: Uint8Array, from: number, to: number, ending: Uint8Array, prefix: Uint8Array | undefined): boolean {
    const length = this.#carried + to - from + ending.length;
    if (prefix && this.#sink.relayRoom() < prefix.length + length) return false;
    this.#hold(input, from, to);
    this.#hold(ending, 0, ending.length);
    if (prefix) this.#sink.appendLine(prefix, this.#carry, 0, this.#carried);
    this.#copyLines(this.#carry.subarray(0, this.#carried));
    this.#carried = 0;
    return true;
  }

  /** Appends bytes to the carried line, growing its buffer by doubling (a quiet service holds little). */
  #hold(source: Uint8Array, from: number, to: number): void {
    const needed = this.#carried + to - from;
    if (needed > this.#carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(needed, this.#carry.length * 2, 256), MAX_LINE_BYTES + CUT_BYTES.length));
      this.#carry.copy(grown, 0, 0, this.#carried);
      this.#carry = grown;
    }
    this.#carry.set(source.subarray(from, to), this.#carried);
    this.#carried = needed;
  }

  #copyRun(input: Uint8Array): void {
    if (this.#runEnd > this.#runStart) this.#copyLines(input.subarray(this.#runStart, this.#runEnd));
    this.#runStart = this.#runEnd;
  }

  #copyLines(lines: Uint8Array): void {
    if (!this.#copy) return;
    try {
      this.#copy.write(lines, this.#stream);
    } catch {
      // The copy's own failures are its own to report (a full disk): they never stop the relay.
    }
  }
}

// A job's combined output kept for its failure report, bounded: the head and
// the tail survive, the middle of a job that writes gigabytes is counted and
// dropped. Bytes in, bytes out: nothing is decoded, so the report holds
// exactly what the job wrote (a multi-byte character may be split at a cut).

/** Smallest usable limit: one byte of head, one of tail. Smaller limits (0, 1) are raised to it. */
export const MIN_CAPTURE_BYTES = 2;

// First allocation for a part; parts grow by doubling up to their limit, so a
// job that prints one line does not cost a limit-sized buffer.
const INITIAL_BYTES = 4096;

/** The line put where bytes were dropped. */
export const cutMarker = (cutBytes: number): Buffer =>
  Buffer.from(`\n[... boxinit: ${cutBytes} bytes cut from the middle of the output ...]\n`);

// A buffer of at least `needed` bytes (at most `limit`) holding the first `used` bytes of `buffer`.
// A buffer already at its limit is returned as is: the tail ring wraps instead of growing.
const grown = (buffer: Buffer, used: number, needed: number, limit: number): Buffer => {
  if (needed <= buffer.length || buffer.length >= limit) return buffer;
  const next = Buffer.allocUnsafe(Math.min(limit, Math.max(needed, buffer.length * 2, INITIAL_BYTES)));
  buffer.copy(next, 0, 0, used);
  return next;
};

/**
 * Head: the first floor(limit/2) bytes, appended until full. Tail: the last
 * limit - headLimit bytes, a ring that grows linearly until it reaches its
 * limit, then wraps. add() is O(chunk) amortised (growth doubles), memory
 * stays within the limit (plus the garbage of at most log2(limit) growth
 * steps). Chunks are copied, so a caller may reuse its buffer after add().
 */
export class OutputCapture {
  readonly limitBytes: number;
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private head: Buffer = Buffer.alloc(0);
  private headLength = 0;
  private tail: Buffer = Buffer.alloc(0);
  private tailStart = 0;
  private tailLength = 0;
  private total = 0;

  /** limitBytes is floored and raised to MIN_CAPTURE_BYTES; a non-finite limit is a RangeError (memory must stay bounded). */
  constructor(limitBytes: number) {
    if (!Number.isFinite(limitBytes)) throw new RangeError(`output capture: limit must be a finite number of bytes, got ${limitBytes}`);
    this.limitBytes = Math.max(MIN_CAPTURE_BYTES, Math.floor(limitBytes));
    this.headLimit = Math.floor(this.limitBytes / 2);
    this.tailLimit = this.limitBytes - this.headLimit;
  }

  /** Everything ever added, in bytes. */
  get totalBytes(): number {
    return this.total;
  }

  /** Bytes dropped from the middle: neither in the head nor in the tail. */
  get cutBytes(): number {
    return this.total - this.headLength - this.tailLength;
  }

  /** Keeps one chunk of stdout or stderr, in arrival order. */
  add(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headLength < this.headLimit) {
      const taken = Math.min(rest.length, this.headLimit - this.headLength);
      this.head = grown(this.head, this.headLength, this.headLength + taken, this.headLimit);
      rest.copy(this.head, this.headLength, 0, taken);
      this.headLength += taken;
      rest = rest.subarray(taken);
    }
    if (rest.length > 0) this.addToTail(rest);
  }

  /** head, then the cut marker when bytes were dropped, then tail; exactly the input when nothing was cut. */
  render(): Buffer {
    const parts: Buffer[] = [this.head.subarray(0, this.headLength)];
    if (this.cutBytes > 0) parts.push(cutMarker(this.cutBytes));
    const end = this.tailStart + this.tailLength;
    if (end <= this.tail.length) {
      parts.push(this.tail.subarray(this.tailStart, end));
    } else {
      parts.push(this.tail.subarray(this.tailStart), this.tail.subarray(0, end - this.tail.length));
    }
    return Buffer.concat(parts);
  }

  private addToTail(bytes: Buffer): void {
    if (bytes.length >= this.tailLimit) {
      // Only its last tailLimit bytes can survive: the old tail and the rest are cut.
      this.tail = grown(this.tail, 0, this.tailLimit, this.tailLimit);
      bytes.copy(this.tail, 0, bytes.length - this.tailLimit);
      this.tailStart = 0;
      this.tailLength = this.tailLimit;
      return;
    }
    // Growing only happens before the first wrap (tailStart is 0 until the
    // buffer is full at tailLimit), so copying [0, tailLength) keeps the order.
    this.tail = grown(this.tail, this.tailLength, this.tailLength + bytes.length, this.tailLimit);
    const capacity = this.tail.length;
    const writeAt = (this.tailStart + this.tailLength) % capacity;
    const firstPart = Math.min(bytes.length, capacity - writeAt);
    bytes.copy(this.tail, writeAt, 0, firstPart);
    bytes.copy(this.tail, 0, firstPart);
    const overflow = Math.max(0, this.tailLength + bytes.length - capacity);
    this.tailStart = (this.tailStart + overflow) % capacity;
    this.tailLength = Math.min(capacity, this.tailLength + bytes.length);
  }
}

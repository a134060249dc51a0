// How relayed output leaves PID 1 for its stdout or stderr without ever
// blocking it: a pipe (docker logs, kubectl logs, `| cat`) or a terminal is
// reopened through /proc/self/fd/N, which gives boxinit a file description
// of its own to put in O_NONBLOCK (O_NONBLOCK on fd 1 itself would be shared
// with every process that inherited it: an init script's `echo` could fail
// with EAGAIN). A socket cannot be reopened: see sharedNonBlocking. A file
// or /dev/null is written as it is: it never says EAGAIN.
import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";

/** Where the bytes of an OutputSink go. */
export interface SinkWriter {
  /** What fd turned out to be and how it is written, for the docs' table and debugging. */
  readonly how: string;
  /**
   * Write bytes. true: done now (written, or dropped after an error), the
   * buffer may be reused. false: the rest goes out later and onDone is called
   * once it has; until then the bytes must stay untouched.
   */
  write(bytes: Uint8Array, onDone: () => void): boolean;
  /** Bytes dropped because the other end was gone or failed (EPIPE, EIO, ENOSPC). */
  readonly droppedBytes: number;
}

const { O_WRONLY, O_NONBLOCK, O_NOCTTY } = constants;

// While a terminal is full (Ctrl-S) nothing tells Node when it is writable
// again, so the retry backs off from 1 ms to this.
const MAX_RETRY_MS = 50;

/**
 * Writes with writeSync: a file, /dev/null (never EAGAIN), a terminal reopened
 * non-blocking (EAGAIN: retried on a timer, bytes kept), or a terminal that
 * could not be reopened (then a stalled terminal blocks PID 1: the documented
 * last resort).
 */
class FdWriter implements SinkWriter {
  readonly how: string;
  droppedBytes = 0;
  readonly #fd: number;
  #retryMs = 1;

  constructor(fd: number, how: string) {
    this.#fd = fd;
    this.how = how;
  }

  write(bytes: Uint8Array, onDone: () => void): boolean {
    const offset = this.#writeFrom(bytes, 0);
    if (offset === bytes.length) return true;
    const retry = (from: number): void => {
      const at = this.#writeFrom(bytes, from);
      if (at === bytes.length) {
        this.#retryMs = 1;
        onDone();
        return;
      }
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
      setTimeout(retry, this.#retryMs, at).unref();
    };
    setTimeout(retry, this.#retryMs, offset).unref();
    return false;
  }

  /** Writes from offset on until done or EAGAIN; returns where it stopped (bytes.length: done or dropped). */
  #writeFrom(bytes: Uint8Array, offset: number): number {
    let at = offset;
    while (at < bytes.length) {
      try {
        at += writeSync(this.#fd, bytes, at, bytes.length - at);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN") return at;
        // EPIPE (nobody reads), EIO, ENOSPC: what cannot be written is dropped, the services go on.
        this.droppedBytes += bytes.length - at;
        return bytes.length;
      }
    }
    return at;
  }
}

/**
 * A pipe reopened non-blocking (or a socket), written with write(2) and,
 * for what does not fit, a libuv stream: that rest completes when the reader
 * has made room (epoll), so a slow reader paces the relay without a poll loop.
 */
class PipeWriter implements SinkWriter {
  readonly how: string;
  droppedBytes = 0;
  readonly #socket: import("node:net").Socket;
  #isGone = false;
  #writes = 0;
  #pending: { id: number; length: number; onDone: () => void } | undefined;

  readonly #fd: number;

  constructor(fd: number, how: string) {
    this.#fd = fd;
    this.how = how;
    const net = process.getBuiltinModule("node:net");
    this.#socket = new net.Socket({ fd, readable: false, writable: true });
    this.#socket.unref();
    // The reader went away (EPIPE) or the pipe failed: from now on output is dropped.
    this.#socket.on("error", () => this.#gone());
    this.#socket.on("close", () => this.#gone());
  }

  write(bytes: Uint8Array, onDone: () => void): boolean {
    if (this.#isGone || bytes.length === 0) {
      this.droppedBytes += bytes.length;
      return true;
    }
    // Most writes fit in the pipe at once: a plain write(2) costs less than a
    // stream write; only what does not fit waits on the stream (epoll).
    let written = 0;
    try {
      written = writeSync(this.#fd, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") {
        this.#gone();
        this.droppedBytes += bytes.length;
        return true;
      }
    }
    if (written === bytes.length) return true;
    const rest = bytes.subarray(written);
    const id = ++this.#writes;
    this.#socket.write(rest, () => this.#finished(id));
    // Written at once (libuv's try-write): Node has already taken the length back.
    if (this.#socket.writableLength === 0) return true;
    this.#pending = { id, length: rest.length, onDone };
    return false;
  }

  #finished(id: number): void {
    const pending = this.#pending;
    if (pending?.id !== id) return; // a write that had completed at once
    this.#pending = undefined;
    pending.onDone();
  }

  #gone(): void {
    if (this.#isGone) return;
    this.#isGone = true;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) {
      this.droppedBytes += pending.length;
      pending.onDone();
    }
  }
}

/** Output with nowhere to go (fd closed): dropped, so that no service is ever held for it. */
const discardWriter = (why: string): SinkWriter => {
  const writer = {
    how: `discarded: ${why}`,
    droppedBytes: 0,
    write: (bytes: Uint8Array): boolean => {
      writer.droppedBytes += bytes.length;
      return true;
    },
  };
  return writer;
};

/** A private non-blocking description of what fd is open on, or undefined (no /proc, EACCES, no reader: ENXIO). */
const reopenNonBlocking = (fd: number): number | undefined => {
  try {
    // O_NOCTTY: opening a terminal must not make it PID 1's controlling one.
    return openSync(`/proc/self/fd/${fd}`, O_WRONLY | O_NONBLOCK | O_NOCTTY);
  } catch {
    return undefined;
  }
};

/** Identifies what fd is open on (same pipe, terminal or file for fd 1 and 2: one sink), or undefined when fd is not open. */
export const targetKey = (fd: number): string | undefined => {
  try {
    const stat = fstatSync(fd, { bigint: true });
    return `${stat.dev}:${stat.ino}:${stat.rdev}`;
  } catch {
    return undefined;
  }
};

/** fcntl(F_SETPIPE_SZ) through the addon (native/relay.c): the new size, or undefined when it could not. */
export type GrowPipe = (fd: number, bytes: number) => number | undefined;

// A pipe reopened for the relay is grown to this (the default limit of
// /proc/sys/fs/pipe-max-size): with 64 KiB, a non-blocking writer waits for
// its reader every 64 KiB; measured (bench/relay-run.py, 2 × 300 MB into
// `| cat`, 4 interleaved runs), PID 1 then spent about 17 % more CPU. The
// memory is the kernel's, not PID 1's.
const GROWN_PIPE_BYTES = 1024 * 1024;

/** The writer for fd: chosen by what fd is open on (see the header). */
export const openWriter = (fd: number, growPipe?: GrowPipe): SinkWriter => {
  let stat;
  try {
    stat = fstatSync(fd);
  } catch (error) {
    return discardWriter(`fd ${fd} is not open (${(error as NodeJS.ErrnoException).code})`);
  }
  const isTerminal = stat.isCharacterDevice() && process.getBuiltinModule("node:tty").isatty(fd);
  if (stat.isSocket()) return sharedNonBlocking(fd, "socket");
  if (!stat.isFIFO() && !isTerminal) return new FdWriter(fd, "file or device, written as it is");
  const own = reopenNonBlocking(fd);
  if (isTerminal) return new FdWriter(own ?? fd, own === undefined ? "terminal that could not be reopened, written as it is" : "terminal, reopened non-blocking");
  if (own === undefined) return sharedNonBlocking(fd, "pipe that could not be reopened");
  const size = growPipe?.(own, GROWN_PIPE_BYTES);
  try {
    return new PipeWriter(own, `pipe, reopened non-blocking${size === undefined ? "" : `, grown to ${size} bytes`}`);
  } catch {
    closeSync(own);
    return new FdWriter(fd, "pipe that libuv refused, written as it is");
  }
};

/**
 * A socket (a parent's socketpair, a journal stream) cannot be reopened: its
 * own description goes non-blocking, shared with whoever else writes to it
 * (an init script's echo may then see EAGAIN while the reader is slow). That
 * is the price of a PID 1 that never blocks; libuv never closes fds 0-2, so
 * an error on the stream leaves fd itself open.
 */
const sharedNonBlocking = (fd: number, what: string): SinkWriter => {
  try {
    return new PipeWriter(fd, `${what}, non-blocking (shared)`);
  } catch {
    return new FdWriter(fd, `${what} that libuv refused, written as it is`);
  }
};

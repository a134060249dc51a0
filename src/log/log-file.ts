// One service's log file, DIR/NAME.log, rotated by size: NAME.log becomes
// NAME.log.1, .1 becomes .2, ... up to NAME.log.KEEP (the oldest is
// replaced). A file is rotated before a line would take it past max_size, so
// a line is never split across files; a line longer than max_size goes alone
// into a file. Safety as in the rest of the state directory: every name is
// worked relative to DIR held open (the caller opens it without following a
// symlink: control/log-dir.ts), NAME.log is opened O_NOFOLLOW and must be a
// plain file with one link, and a file made here gets FILE_MODE whatever the
// umask. A write that fails (ENOSPC, EROFS, a symlink planted) is logged once,
// what cannot be written is dropped and counted, and writing is tried again
// after retryMs: never fatal, never buffered without bound (docs/logging.md).
import { closeSync, constants, fstatSync, writeSync } from "node:fs";
import type { Logger } from "./logger.ts";
import { countLines, LinePrefixes, OutputBuffer, type OutputStream, type PrefixLines } from "./log-file-lines.ts";
import { closeQuietly, codeOf, cutBack, HINTS, refused, setMode } from "./log-file-io.ts";
import { monotonicMs } from "../time/clock.ts";

const { O_WRONLY, O_APPEND, O_NOFOLLOW, O_NONBLOCK, O_CREAT, O_EXCL } = constants;

/**
 * A log file's mode whatever the umask: as the jobs' failure reports, readable
 * by host tools and the host user, who often is not the container's uid (root);
 * who may read at all is the state directory's own mode on the host.
 */
export const LOG_FILE_MODE = 0o644;

/** How long after a failure writing is tried again (the first batch after it). */
export const LOG_FILE_RETRY_MS = 5000;

/** What the writer needs of DIR, held open (control/dir-handle.ts's DirHandle has this shape; log/ does not import it). */
export interface LogDir {
  readonly path: string;
  open(name: string, flags: number, mode?: number): number;
  rename(from: string, to: string): void;
  unlink(name: string): void;
  close(): void;
}

export interface LogFileOptions {
  /** The service's name: the file is NAME.log. */
  name: string;
  /** DIR's path, for messages (openDir opens it). */
  dir: string;
  maxSizeBytes: number;
  keep: number;
  timestamps: boolean;
  /** DIR, opened (and made when missing) afresh at the start and after a failure; throws what stands in the way. */
  openDir: () => LogDir;
  log: Logger;
  retryMs?: number;
  /** Wall clock for the timestamps (tests). */
  now?: () => number;
  /** The addon's line loop (Native.lineFormatter()): a batch costs a few calls, not two per line. */
  formatLines?: PrefixLines;
}

/** Why writing stopped, and what was dropped since. */
interface Failure {
  code: string;
  retryAtMs: number;
  droppedLines: number;
  droppedBytes: number;
}

/** Writes one service's lines to DIR/NAME.log, rotating by size; `write` is the relay's copyTo hook. */
export class LogFile {
  readonly #options: LogFileOptions;
  readonly #fileName: string;
  readonly #prefixes: LinePrefixes;
  readonly #out = new OutputBuffer();
  #dir: LogDir | undefined;
  #fd: number | undefined;
  /** NAME.log's size as far as this writer knows (it is the only writer). */
  #size = 0;
  #failure: Failure | undefined;
  #isClosed = false;
  /** How much of the batch being written has reached the file. */
  #batchDone = 0;

  constructor(options: LogFileOptions) {
    this.#options = options;
    this.#fileName = `${options.name}.log`;
    this.#prefixes = new LinePrefixes(options.timestamps, options.now);
  }

  /** Where the file is, for messages. */
  get path(): string {
    return `${this.#options.dir}/${this.#fileName}`;
  }

  /**
   * A batch of whole lines (each ending "\n") from one stream; the bytes are
   * only read during the call. Never throws.
   */
  write(lines: Uint8Array, stream: OutputStream): void {
    if (lines.length === 0 || this.#isClosed) return;
    const batch = Buffer.from(lines.buffer, lines.byteOffset, lines.length);
    if (this.#failure && monotonicMs() < this.#failure.retryAtMs) {
      this.#drop(batch);
      return;
    }
    this.#batchDone = 0;
    try {
      this.#ensureOpen();
      this.#writeBatch(batch, this.#prefixes.current(stream));
      if (this.#failure) this.#recovered();
    } catch (error) {
      this.#fail(error, batch);
    } finally {
      this.#out.reset();
    }
  }

  /** Close the file and DIR; later writes are ignored. */
  close(): void {
    this.#isClosed = true;
    this.#closeAll();
  }

  // Lines go into one buffer; a line that would take the file past max_size
  // first sends what is buffered, then rotates. #batchDone says how far the
  // batch reached the file (what a failure drops is the rest).
  #writeBatch(batch: Buffer, head: Buffer): void {
    const { maxSizeBytes, formatLines } = this.#options;
    let chunkStart = 0;
    for (let start = 0; start < batch.length;) {
      if (formatLines) {
        // As many whole lines as the file has room for in one call; the line
        // that stops it (no room: rotate; unfinished) takes the path below.
        const room = Math.max(0, maxSizeBytes - this.#size - (this.#out.length - chunkStart));
        const next = this.#out.appendLines(formatLines, head, batch, start, batch.length, room);
        if (next > start) {
          start = next;
          continue;
        }
      }
      const newline = batch.indexOf(0x0a, start);
      const end = newline === -1 ? batch.length : newline + 1;
      const pending = this.#out.length - chunkStart;
      const lineBytes = head.length + end - start + (newline === -1 ? 1 : 0);
      if (this.#size + pending + lineBytes > maxSizeBytes && this.#size + pending > 0) {
        this.#send(chunkStart, start);
        chunkStart = this.#out.length;
        this.#rotate();
      }
      this.#out.appendLine(head, batch, start, end);
      if (newline === -1) this.#out.appendNewline();
      start = end;
    }
    this.#send(chunkStart, batch.length);
  }

  // One write(2) for the buffered lines. A short write that then fails (the
  // disk filled up) is cut back to the last whole line: never half a line.
  #send(chunkStart: number, batchEnd: number): void {
    const bytes = this.#out.from(chunkStart);
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.#fd!, bytes, written);
    } catch (error) {
      if (written > 0) cutBack(this.#fd!, this.#size);
      throw error;
    }
    this.#size += bytes.length;
    this.#batchDone = batchEnd;
  }

  #ensureOpen(): void {
    if (this.#fd !== undefined) return;
    this.#dir ??= this.#options.openDir();
    this.#fd = this.#openFile();
    this.#size = fstatSync(this.#fd).size;
  }

  // O_NOFOLLOW: a symlink planted at NAME.log fails (ELOOP) instead of taking
  // the output where it points; O_NONBLOCK: a FIFO planted there cannot hang
  // PID 1 in open(2). What opens must be a plain file with one link (a hard
  // link to a file elsewhere would be written through).
  #openFile(): number {
    const dir = this.#dir!;
    const flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK;
    let fd: number;
    let isCreated = false;
    try {
      fd = dir.open(this.#fileName, flags);
    } catch (error) {
      if (codeOf(error) !== "ENOENT") throw error;
      fd = dir.open(this.#fileName, flags | O_CREAT | O_EXCL, LOG_FILE_MODE);
      isCreated = true;
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw refused("EINVAL", `${dir.path}/${this.#fileName} is not a plain file: refusing to write to it`);
      if (stats.nlink !== 1) throw refused("EMLINK", `${dir.path}/${this.#fileName} has ${stats.nlink} hard links: refusing to write through it`);
      if (isCreated) setMode(fd, LOG_FILE_MODE);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return fd;
  }

  // NAME.log.(K-1) → .K, ..., NAME.log → .1 (renameat within DIR: the
  // oldest is replaced, a symlink at a target is replaced, never followed).
  // keep 0: NAME.log is removed. The next line opens a new NAME.log.
  #rotate(): void {
    const { keep } = this.#options;
    const dir = this.#dir!;
    closeSync(this.#fd!);
    this.#fd = undefined;
    for (let index = keep - 1; index >= 1; index--) {
      try {
        dir.rename(`${this.#fileName}.${index}`, `${this.#fileName}.${index + 1}`);
      } catch (error) {
        if (codeOf(error) !== "ENOENT") throw error;
      }
    }
    if (keep > 0) dir.rename(this.#fileName, `${this.#fileName}.1`);
    else dir.unlink(this.#fileName);
    this.#fd = this.#openFile();
    this.#size = 0;
  }

  #drop(batch: Buffer): void {
    this.#failure!.droppedBytes += batch.length;
    this.#failure!.droppedLines += countLines(batch);
  }

  // The batch's lines that did not reach the file are dropped (counted); the
  // file and DIR are closed and opened afresh at the retry, so a DIR swapped
  // for a symlink meanwhile is refused then.
  #fail(error: unknown, batch: Buffer): void {
    const code = codeOf(error);
    const isNew = this.#failure?.code !== code;
    const retryMs = this.#options.retryMs ?? LOG_FILE_RETRY_MS;
    this.#failure = { code, retryAtMs: monotonicMs() + retryMs, droppedLines: this.#failure?.droppedLines ?? 0, droppedBytes: this.#failure?.droppedBytes ?? 0 };
    this.#drop(batch.subarray(this.#batchDone));
    this.#closeAll();
    if (!isNew) return;
    const message = error instanceof Error ? error.message : String(error);
    this.#options.log.warn("state-dir", `cannot write the log file of ${this.#options.name}: ${code}: ${message}; its output still goes to boxinit's stdout/stderr, lines are dropped from the file until it can be written (tried again every ${retryMs} ms)`, {
      service: this.#options.name, file: this.path, code, hint: HINTS[code],
    });
  }

  #recovered(): void {
    const { droppedLines, droppedBytes } = this.#failure!;
    this.#failure = undefined;
    this.#options.log.info("state-dir", `the log file of ${this.#options.name} is written again; ${droppedLines} lines (${droppedBytes} bytes) could not be written and are missing from it`, {
      service: this.#options.name, file: this.path, droppedLines, droppedBytes,
    });
  }

  #closeAll(): void {
    if (this.#fd !== undefined) closeQuietly(this.#fd);
    this.#fd = undefined;
    try {
      this.#dir?.close();
    } catch {
      // Closing a directory handle fails only when it is already closed.
    }
    this.#dir = undefined;
  }
}

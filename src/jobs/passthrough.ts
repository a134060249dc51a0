// How a job's output reaches boxinit's stdout and stderr while it is also
// captured. `boxinit job` passes it through untouched; PID 1's scheduler
// prefixes each line with the job's name, as it does for several services.
import { writeBytes } from "../log/logger.ts";

/** Called with every chunk read from the job's stdout (1) or stderr (2). */
export type Passthrough = {
  write(fd: 1 | 2, chunk: Buffer): void;
  /** Write any unfinished last lines; called once the job's output has ended. */
  flush(): void;
};

/** Bytes as they came. */
export const rawPassthrough = (): Passthrough => ({
  write: (fd, chunk) => writeBytes(fd, chunk),
  flush: () => {},
});

// A line longer than this is written in pieces rather than held for ever.
const MAX_LINE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** Every line prefixed with `prefix`; bytes, not text, so no encoding is assumed. */
export const prefixedPassthrough = (prefix: string): Passthrough => {
  const head = Buffer.from(prefix);
  const pending: Record<1 | 2, Buffer> = { 1: Buffer.alloc(0), 2: Buffer.alloc(0) };
  const emit = (fd: 1 | 2, line: Buffer): void => writeBytes(fd, Buffer.concat([head, line]));
  return {
    write: (fd, chunk) => {
      let rest = pending[fd].length > 0 ? Buffer.concat([pending[fd], chunk]) : chunk;
      for (let newline = rest.indexOf(NEWLINE); newline !== -1; newline = rest.indexOf(NEWLINE)) {
        emit(fd, rest.subarray(0, newline + 1));
        rest = rest.subarray(newline + 1);
      }
      if (rest.length > MAX_LINE_BYTES) {
        emit(fd, Buffer.concat([rest, Buffer.from("\n")]));
        rest = Buffer.alloc(0);
      }
      pending[fd] = Buffer.from(rest);
    },
    flush: () => {
      for (const fd of [1, 2] as const) {
        if (pending[fd].length > 0) emit(fd, Buffer.concat([pending[fd], Buffer.from("\n")]));
        pending[fd] = Buffer.alloc(0);
      }
    },
  };
};

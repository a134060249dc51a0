// Service output when several processes share the container's stdout/stderr:
// each line is prefixed with the service's name ("web | listening on 8080"),
// so the log stays readable. One service alone keeps its output untouched
// (its fds are boxinit's own) unless its lines are also copied (a log file):
// then it is relayed unprefixed, its bytes unchanged.
//
// The interface (issue 18 builds log files on it):
//   relayOutput(native, name, { prefix, copyTo }) -> { outFd, errFd } for the spawn
//   copyTo.write(lines, "stdout" | "stderr"): every complete line, unprefixed,
//     whole lines each ending in "\n" (a line over 64 KiB comes as pieces ended
//     by CUT_MARKER), a view valid only during the call, once or twice per read
//     chunk (never per line). It runs inside PID 1's loop, so one write(2) per
//     call at most (a slow disk then holds the service, as a slow reader does).
//     It must not throw (a throw is ignored).
//   drainServiceOutput(ms) before exiting.
// How the bytes go: pipe-relay.ts (reads, paused while the sink is full) ->
// line-relay.ts (lines) -> output-sink.ts (one buffer per stdout/stderr,
// whole batches) -> sink-writers.ts (never blocking PID 1).
import { closeSync } from "node:fs";
import { monotonicMs, settleBefore } from "../time/clock.ts";
import { LineRelay, type LineCopy, type StreamName } from "./line-relay.ts";
import { allSinks, sinkFor, type PrefixLines } from "./output-sink.ts";
import { PipeRelay } from "./pipe-relay.ts";

export { CUT_MARKER, MAX_LINE_BYTES, type LineCopy, type StreamName } from "./line-relay.ts";

/** What relayOutput needs of the addon (native/addon.ts): log/ is a leaf and does not import it. */
export interface PipeMaker {
  /** A pipe, [read end, write end], close-on-exec in boxinit. */
  makePipe(): [number, number];
  /** The addon's loop over whole lines (native/relay.c), when the loaded copy has it. */
  lineFormatter?(): PrefixLines | undefined;
  /** fcntl(F_SETPIPE_SZ) (native/relay.c): grows the pipe on boxinit's stdout/stderr. */
  growPipe?(fd: number, bytes: number): number | undefined;
}

/** How a service's output is relayed. */
export interface RelayOptions {
  /** Prefix each line with "NAME | " (several producers share stdout); false: bytes unchanged (only for copyTo). */
  prefix: boolean;
  /** Also hand every complete line, unprefixed, to this (issue 18's log file). */
  copyTo?: LineCopy;
}

/**
 * Pipes for a process whose output is relayed: returns the write ends for
 * the spawn (which closes them in boxinit) and starts relaying the read ends
 * to boxinit's stdout and stderr.
 */
export const relayOutput = (native: PipeMaker, name: string, options: RelayOptions): { outFd: number; errFd: number } => {
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
  const prefix = options.prefix ? `${name} | ` : undefined;
  const format = native.lineFormatter?.();
  const start = (fd: number, to: 1 | 2, stream: StreamName): void => {
    const sink = sinkFor(to, native.growPipe && ((pipeFd, bytes) => native.growPipe!(pipeFd, bytes)));
    track(new PipeRelay(fd, sink, new LineRelay(sink, prefix, options.copyTo, stream, format)).done);
  };
  start(outRead, 1, "stdout");
  start(errRead, 2, "stderr");
  return { outFd: outWrite, errFd: errWrite };
};

/** relayOutput with every line prefixed "NAME | " (several producers share stdout). */
export const prefixedOutput = (native: PipeMaker, name: string): { outFd: number; errFd: number } =>
  relayOutput(native, name, { prefix: true });

// Relays still reading: a process's last lines may sit in its pipe after it
// was reaped, and process.exit would drop them.
const relaying = new Set<Promise<void>>();

const track = (relay: Promise<void>): void => {
  relaying.add(relay);
  void relay.then(() => relaying.delete(relay));
};

/**
 * Wait until every relay has reached end of file and every sink has written
 * what it holds, or timeoutMs (a reader that stalls must not hold the exit);
 * call before exiting.
 */
export const drainServiceOutput = async (timeoutMs: number): Promise<void> => {
  const deadline = monotonicMs() + timeoutMs;
  if (relaying.size > 0) await settleBefore(Promise.all(relaying), deadline);
  const sinks = allSinks();
  if (sinks.length > 0) await settleBefore(Promise.all(sinks.map((sink) => sink.drained())), deadline);
};

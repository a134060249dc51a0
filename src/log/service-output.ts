// Service output when several processes share the container's stdout/stderr:
// each line is prefixed with the service's name ("web | listening on 8080"),
// so the log stays readable. One service alone keeps its output untouched.
import type { Native } from "../native/addon.ts";
import { writeLine } from "./logger.ts";
import { monotonicMs, settleBefore } from "../shutdown/clock.ts";

// A line longer than this is written in pieces rather than held forever.
const MAX_LINE_BYTES = 64 * 1024;

/** Copy fd to `to`, prefixing every line; resolves at end of file. */
const relayLines = (fd: number, to: number, prefix: string): Promise<void> =>
  new Promise((resolve) => {
    const net = process.getBuiltinModule("node:net");
    const socket = new net.Socket({ fd, readable: true, writable: false });
    let pending = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        writeLine(to, `${prefix}${pending.slice(0, newline + 1)}`);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
      if (pending.length > MAX_LINE_BYTES) {
        writeLine(to, `${prefix}${pending}\n`);
        pending = "";
      }
    });
    const finish = (): void => {
      if (pending !== "") writeLine(to, `${prefix}${pending}\n`);
      pending = "";
      resolve();
    };
    socket.on("end", finish);
    // A read error on our own pipe ends the relay; the service itself is unaffected.
    socket.on("error", finish);
  });

/**
 * Pipes for a process whose output gets prefixed: returns the write ends for
 * the spawn (which closes them in boxinit) and starts relaying the read ends.
 */
export const prefixedOutput = (native: Native, name: string): { outFd: number; errFd: number } => {
  const [outRead, outWrite] = native.makePipe();
  const [errRead, errWrite] = native.makePipe();
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

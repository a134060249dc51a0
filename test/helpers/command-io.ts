// The side commands' output captured in memory (CommandIo of modes/side.ts),
// with a fixed "now" for their age arithmetic.
import type { CommandIo } from "../../src/modes/side.ts";

/** A fixed "now" for the commands' age arithmetic. */
export const NOW = Date.parse("2026-11-26T10:10:00.000Z");

/** Captured output of one command run. */
export const captureIo = (nowMs = NOW): CommandIo & { out: string; err: string } => {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
    nowMs: () => nowMs,
  };
  return io;
};

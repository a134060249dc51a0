// native/relay.c's prefixLines, the relay's loop over whole lines: what it
// takes and where it stops (a line too long, unfinished, or not fitting),
// bad arguments refused with a throw, and a LineRelay with it writes the
// same bytes as one without it, however the chunks fall.
import t from "tap";
import { closeSync, openSync } from "node:fs";
import { loadAddon } from "../helpers/addon.ts";
import { CUT_MARKER, LineRelay, MAX_LINE_BYTES } from "../../src/log/line-relay.ts";
import { OutputSink, type PrefixLines } from "../../src/log/output-sink.ts";
import type { SinkWriter } from "../../src/log/sink-writers.ts";

const format = loadAddon().lineFormatter();

/** Runs prefixLines on text into an output of outBytes; returns [next from, what it wrote]. */
const run = (prefixLines: PrefixLines, text: string, outBytes = 1024, maxLine = 64): [number, string] => {
  const input = Buffer.from(text);
  const output = Buffer.alloc(outBytes);
  const result = new Int32Array(2);
  prefixLines(input, 0, input.length, Buffer.from("p | "), output, 0, outBytes, maxLine, result);
  return [result[0]!, output.subarray(0, result[1]!).toString()];
};

t.test("prefixLines: whole lines behind the prefix, stopping where JavaScript must take over", async (t) => {
  if (!format) return t.fail("the addon lacks prefixLines: native/boxinit.c's init must call register_relay (native/relay.c)");
  t.same(run(format, "one\ntwo\n"), [8, "p | one\np | two\n"], "every whole line");
  t.same(run(format, "one\ntwo"), [4, "p | one\n"], "stops at an unfinished line");
  t.same(run(format, `one\n${"x".repeat(65)}\nthree\n`, 1024, 64), [4, "p | one\n"], "stops at a line longer than maxLine");
  t.same(run(format, `one\n${"x".repeat(64)}\n`, 1024, 64), [69, `p | one\np | ${"x".repeat(64)}\n`], "a line of exactly maxLine is taken");
  t.same(run(format, "one\ntwo\n", 10), [4, "p | one\n"], "stops at a line that does not fit");
  t.same(run(format, "\n\n"), [2, "p | \np | \n"], "empty lines");
});

t.test("prefixLines refuses bad arguments with a throw, never a crash", async (t) => {
  if (!format) return t.fail("the addon lacks prefixLines");
  const result = new Int32Array(2);
  const bytes = Buffer.from("a\n");
  t.throws(() => format(bytes, 0, 3, bytes, Buffer.alloc(8), 0, 8, 64, result), RangeError, "to past the input");
  t.throws(() => format(bytes, 0, 2, bytes, Buffer.alloc(8), 0, 9, 64, result), RangeError, "outEnd past the output");
  t.throws(() => format(bytes, 2, 1, bytes, Buffer.alloc(8), 0, 8, 64, result), RangeError, "from after to");
  t.throws(() => format(bytes, 0, 2, bytes, Buffer.alloc(8), 0, 8, 64, new Int32Array(1)), TypeError, "a result too short");
  t.throws(() => (format as (...args: unknown[]) => void)("a\n", 0, 2, bytes, Buffer.alloc(8), 0, 8, 64, result), TypeError, "a string for bytes");
});

/** A sink writer that keeps everything. */
const keeper = (): SinkWriter & { bytes: Buffer[] } => {
  const writer = { how: "test", droppedBytes: 0, bytes: [] as Buffer[], write: (chunk: Uint8Array) => { writer.bytes.push(Buffer.from(chunk)); return true; } };
  return writer;
};

t.test("a LineRelay with the C loop writes the same bytes as without it", async (t) => {
  if (!format) return t.fail("the addon lacks prefixLines");
  // Deterministic pseudo-random lines: short, empty, and some over 64 KiB.
  let seed = 17;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const parts: string[] = [];
  for (let i = 0; i < 3000; i++) parts.push(next(50) === 0 ? "L".repeat(MAX_LINE_BYTES + next(3 * MAX_LINE_BYTES)) : "s".repeat(next(200)), "\n");
  parts.push("unfinished");
  const input = Buffer.from(parts.join(""));
  const outputs = [format, undefined].map((withFormat) => {
    const writer = keeper();
    const sink = new OutputSink(writer);
    const relay = new LineRelay(sink, "svc | ", undefined, "stdout", withFormat);
    for (let at = 0; at < input.length;) {
      const end = Math.min(input.length, at + 1 + next(70_000));
      let from = at;
      while (from < end) {
        from = relay.consume(input, from, end);
        sink.flush();
      }
      at = end;
    }
    relay.end();
    sink.flush();
    return Buffer.concat(writer.bytes).toString();
  });
  t.ok(outputs[0]!.includes(CUT_MARKER), "long lines were cut");
  t.ok(outputs[0] === outputs[1], "byte for byte the same");
});

t.test("growPipe: a pipe grows to the size asked for; anything else is refused, not thrown", async (t) => {
  const native = loadAddon();
  const [readEnd, writeEnd] = native.makePipe();
  t.teardown(() => { closeSync(readEnd); closeSync(writeEnd); });
  const size = native.growPipe(writeEnd, 1024 * 1024);
  if (size === undefined) return t.fail("the addon lacks growPipe (native/boxinit.c's init must call register_relay), or F_SETPIPE_SZ failed as root");
  t.ok(size >= 1024 * 1024, `grown to ${size} bytes`);
  const file = openSync("/dev/null", "w");
  t.teardown(() => closeSync(file));
  t.equal(native.growPipe(file, 1024 * 1024), undefined, "/dev/null is no pipe: undefined");
});

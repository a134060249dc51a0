// The relay behind service output, without processes: a LineRelay turns
// chunks into whole prefixed lines in an OutputSink (a line longer than
// 64 KiB cut into marked pieces), hands the same lines unprefixed to a copy
// once per chunk, and a sink whose writer takes only part of a batch (a
// slow reader) holds the relays back instead of growing.
import t from "tap";
import { CUT_MARKER, LineRelay, MAX_LINE_BYTES, type StreamName } from "../../src/log/line-relay.ts";
import { OutputSink, RELAY_BYTES, SINK_BYTES, type PrefixLines } from "../../src/log/output-sink.ts";
import type { SinkWriter } from "../../src/log/sink-writers.ts";

/** A writer that keeps what it gets; `takes` bytes at most per write, the rest finishing on finishWrite(). */
class FakeWriter implements SinkWriter {
  readonly how = "fake";
  droppedBytes = 0;
  written: Buffer[] = [];
  pending: { rest: Buffer; onDone: () => void } | undefined;
  takes = Infinity;
  writes = 0;

  write(bytes: Uint8Array, onDone: () => void): boolean {
    this.writes++;
    const now = Math.min(bytes.length, this.takes);
    this.written.push(Buffer.from(bytes.subarray(0, now)));
    if (now === bytes.length) return true;
    // As libuv does: the rest stays in the caller's buffer until it is written.
    this.pending = { rest: Buffer.from(bytes.subarray(now)), onDone };
    return false;
  }

  /** The reader made room: `takes` more bytes of the pending write go out; onDone once all of it has. */
  finishWrite(): void {
    const pending = this.pending!;
    const now = Math.min(pending.rest.length, this.takes);
    this.written.push(pending.rest.subarray(0, now));
    pending.rest = pending.rest.subarray(now);
    if (pending.rest.length > 0) return;
    this.pending = undefined;
    pending.onDone();
  }

  text(): string {
    return Buffer.concat(this.written).toString("latin1");
  }
}

const relayTo = (prefix: string | undefined, copy?: (lines: string, stream: StreamName) => void): { writer: FakeWriter; sink: OutputSink; relay: LineRelay } => {
  const writer = new FakeWriter();
  const sink = new OutputSink(writer);
  // The copied view is only valid during the call: copy it, as a file write would.
  const copyTo = copy && { write: (lines: Uint8Array, stream: StreamName) => copy(Buffer.from(lines).toString("latin1"), stream) };
  return { writer, sink, relay: new LineRelay(sink, prefix, copyTo, "stdout") };
};

/** Pushes chunks through relay as relayPipe does: consume, flush, and again when the sink was full. */
const push = (relay: LineRelay, sink: OutputSink, ...chunks: string[]): void => {
  for (const chunk of chunks) {
    const bytes = Buffer.from(chunk, "latin1");
    let at = relay.consume(bytes, 0, bytes.length);
    while (at < bytes.length) {
      if (!sink.flush()) throw new Error("the fake writer is blocked: use finishWrite in this test");
      at = relay.consume(bytes, at, bytes.length);
    }
    sink.flush();
  }
};

t.test("lines are prefixed whole, however the chunks fall; the end adds a missing newline", async (t) => {
  const { writer, sink, relay } = relayTo("web | ");
  push(relay, sink, "one\ntw", "o\n", "", "\nthree", " and more\nfour");
  t.equal(writer.text(), "web | one\nweb | two\nweb | \nweb | three and more\n");
  t.ok(relay.end());
  sink.flush();
  t.equal(writer.text().split("\n").at(-2), "web | four", "the last line without a newline gets one at the end");
  t.ok(relay.end());
  t.equal(writer.text().split("\n").length, 6, "nothing more at a second end");
});

t.test("one write per chunk, not per line", async (t) => {
  const { writer, sink, relay } = relayTo("a | ");
  push(relay, sink, "x\n".repeat(1000));
  t.equal(writer.writes, 1, "a chunk of 1000 lines is one write");
  t.equal(writer.text(), "a | x\n".repeat(1000));
});

t.test("a line longer than 64 KiB goes out in marked pieces of 64 KiB (issue 13, rough edge)", async (t) => {
  const { writer, sink, relay } = relayTo("a | ");
  const long = "x".repeat(MAX_LINE_BYTES * 2 + 10);
  // In odd-sized chunks, as a pipe delivers them.
  const chunks: string[] = [];
  for (let at = 0; at < long.length; at += 7000) chunks.push(long.slice(at, at + 7000));
  push(relay, sink, ...chunks, "\nnext\n");
  const lines = writer.text().split(/(?<=\n)/);
  t.equal(lines.length, 4);
  t.equal(lines[0], `a | ${"x".repeat(MAX_LINE_BYTES)}${CUT_MARKER}`);
  t.equal(lines[1], `a | ${"x".repeat(MAX_LINE_BYTES)}${CUT_MARKER}`);
  t.equal(lines[2], "a | xxxxxxxxxx\n", "the rest of the line, then its newline");
  t.equal(lines[3], "a | next\n");
});

t.test("a line of exactly 64 KiB is not cut; bytes pass as they are (no decoding)", async (t) => {
  const { writer, sink, relay } = relayTo("b | ");
  push(relay, sink, `${"y".repeat(MAX_LINE_BYTES)}\n`);
  t.equal(writer.text(), `b | ${"y".repeat(MAX_LINE_BYTES)}\n`);
  const raw = relayTo("");
  for (const bytes of [Uint8Array.from([0xff, 0xc3]), Uint8Array.from([0xa9, 0x0a])]) {
    raw.relay.consume(bytes, 0, bytes.length);
    raw.sink.flush();
  }
  t.same([...Buffer.concat(raw.writer.written)], [0xff, 0xc3, 0xa9, 0x0a], "invalid UTF-8 and a character split across chunks arrive unchanged");
});

t.test("the copy gets every complete line unprefixed, with its stream, once or twice per chunk", async (t) => {
  const copies: Array<[string, StreamName]> = [];
  const { writer, sink, relay } = relayTo("web | ", (lines, stream) => copies.push([lines, stream]));
  push(relay, sink, "a\nb\nc", "d\ne\nf\n", "g");
  t.same(copies, [["a\nb\n", "stdout"], ["cd\n", "stdout"], ["e\nf\n", "stdout"]],
    "whole lines only; the carried line completed, then the chunk's own lines as one view");
  relay.end();
  sink.flush();
  t.same(copies.at(-1), ["g\n", "stdout"], "the unfinished last line at the end, with a newline");
  t.equal(writer.text(), "web | a\nweb | b\nweb | cd\nweb | e\nweb | f\nweb | g\n");
  const long = relayTo("x | ", (lines) => copies.push([lines, "stderr"]));
  copies.length = 0;
  push(long.relay, long.sink, "z".repeat(MAX_LINE_BYTES + 1), "\n");
  t.same(copies.map(([lines]) => lines), [`${"z".repeat(MAX_LINE_BYTES)}${CUT_MARKER}`, "z\n"], "cut pieces come marked, as on stdout");
});

t.test("unprefixed relay (one service with a copy): bytes unchanged on stdout, whole lines to the copy", async (t) => {
  const copies: string[] = [];
  const { writer, sink, relay } = relayTo(undefined, (lines) => copies.push(lines));
  push(relay, sink, "one\ntw", "o\nno newline at the end");
  relay.end();
  sink.flush();
  t.equal(writer.text(), "one\ntwo\nno newline at the end", "stdout: the bytes as written, nothing added");
  t.same(copies, ["one\n", "two\n", "no newline at the end\n"]);
});

t.test("a throwing copy does not stop the relay", async (t) => {
  const { writer, sink, relay } = relayTo("a | ", () => { throw new Error("disk full"); });
  push(relay, sink, "one\ntwo\n");
  t.equal(writer.text(), "a | one\na | two\n");
});

t.test("a slow reader: the sink stops taking lines at its bound, the relay resumes where it stopped, nothing lost or mixed", async (t) => {
  const writer = new FakeWriter();
  const sink = new OutputSink(writer);
  const a = new LineRelay(sink, "a | ", undefined, "stdout");
  const b = new LineRelay(sink, "b | ", undefined, "stdout");
  writer.takes = 1000; // each write is cut short, as on a full pipe
  const chunkOf = (name: string, from: number): Buffer =>
    Buffer.from(Array.from({ length: 600 }, (_, i) => `${name}${String(from + i).padStart(96, "0")}\n`).join(""));
  let wakes = 0;
  const queues = { a: [0, 600, 1200, 1800, 2400, 3000].map((n) => chunkOf("a", n)), b: [0, 600, 1200, 1800, 2400, 3000].map((n) => chunkOf("b", n)) };
  const state = { a: { relay: a, at: 0 }, b: { relay: b, at: 0 } };
  // Feed both relays until each is held back by the sink; then let the reader make room, again and again.
  const feed = (name: "a" | "b"): void => {
    const queue = queues[name];
    const s = state[name];
    while (queue.length > 0) {
      const chunk = queue[0]!;
      s.at = s.relay.consume(chunk, s.at, chunk.length);
      if (s.at < chunk.length) {
        t.ok(sink.relayRoom() < 200, "held back only when the room is used up");
        sink.flush();
        sink.whenRoom(() => { wakes++; feed(name); });
        return;
      }
      queue.shift();
      s.at = 0;
      sink.flush();
    }
  };
  feed("a");
  feed("b");
  let rounds = 0;
  while (writer.pending) {
    writer.finishWrite();
    rounds++;
  }
  t.ok(wakes >= 4 && rounds > 700, `the relays waited for the reader (${wakes} wakes, ${rounds} rounds)`);
  const lines = writer.text().split("\n").slice(0, -1);
  for (const name of ["a", "b"]) {
    const own = lines.filter((line) => line.startsWith(`${name} | `));
    t.equal(own.length, 3600, `every line of ${name} arrived`);
    t.ok(own.every((line, i) => line === `${name} | ${name}${String(i).padStart(96, "0")}`), `${name}'s lines whole and in order`);
  }
  t.equal(lines.length, 7200, "no other bytes: no line mixed into another");
});

t.test("boxinit's own lines wait behind a batch being written and are dropped whole (counted) when even the reserve is full", async (t) => {
  const writer = new FakeWriter();
  const sink = new OutputSink(writer);
  const relay = new LineRelay(sink, "svc | ", undefined, "stderr");
  writer.takes = 10;
  const line = `${"s".repeat(99)}\n`;
  relay.consume(Buffer.from(line), 0, line.length);
  sink.flush();
  sink.writeWhole(Buffer.from("boxinit: state: state running\n"));
  t.equal(writer.text(), "svc | ssss", "the batch was cut short (10 bytes); boxinit's line waits");
  writer.takes = Infinity;
  writer.finishWrite();
  t.equal(writer.text(), `svc | ${line}boxinit: state: state running\n`, "after the service's whole line");
  writer.takes = 0;
  const big = Buffer.alloc(RELAY_BYTES, 0x61);
  big[big.length - 1] = 0x0a;
  t.ok(sink.appendLine(Buffer.alloc(0), big, 0, big.length - 6), "relays fill their room");
  sink.flush();
  t.equal(sink.relayRoom(), 6);
  let dropped = 0;
  for (let i = 0; i < 10_000; i++) sink.writeWhole(Buffer.from(`boxinit line ${i}\n`));
  dropped = sink.dropped.lines;
  t.ok(dropped > 0 && dropped < 10_000, "the reserve took some, the rest were dropped whole");
  t.ok(SINK_BYTES - RELAY_BYTES >= 64 * 1024, "a reserve of at least 64 KiB for boxinit's own lines");
});

t.test("the relays' loop is never asked to write past their room, even when boxinit's lines went into the reserve", async (t) => {
  // A stand-in for native/relay.c's prefixLines with its bounds check (it throws out of range).
  const format: PrefixLines = (input, from, to, prefix, output, outAt, outEnd, maxLine, result) => {
    if (from > to || to > input.length || outAt > outEnd || outEnd > output.length) throw new RangeError("a bound is outside its array");
    while (from < to) {
      const newline = input.indexOf(0x0a, from);
      if (newline === -1 || newline >= to || newline - from > maxLine || prefix.length + newline + 1 - from > outEnd - outAt) break;
      output.set(prefix, outAt);
      output.set(input.subarray(from, newline + 1), outAt + prefix.length);
      outAt += prefix.length + newline + 1 - from;
      from = newline + 1;
    }
    result[0] = from;
    result[1] = outAt;
  };
  const writer = new FakeWriter();
  writer.takes = 0;
  const sink = new OutputSink(writer);
  const relay = new LineRelay(sink, "a | ", undefined, "stdout", format);
  const line = Buffer.from(`${"z".repeat(95)}\n`);
  let at = 0;
  while (relay.consume(line, 0, line.length) === line.length) at++;
  t.ok(at > 1000, "the relay filled its room");
  sink.flush();
  sink.writeWhole(Buffer.from("boxinit: state: state stopping\n"));
  t.equal(relay.consume(line, 0, line.length), 0, "no room: nothing taken, nothing thrown");
});

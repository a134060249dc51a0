// The line splitter behind prefixed service output: whole lines prefixed, a
// line longer than 64 KiB cut into marked pieces, memory bounded whatever the input.
import t from "tap";
import { CUT_MARKER, LineSplitter, MAX_LINE_BYTES } from "../../src/log/service-output.ts";

const collect = (prefix = "web | "): { lines: string[]; splitter: LineSplitter } => {
  const lines: string[] = [];
  // The emitted view is reused: copy it, as a write would.
  const splitter = new LineSplitter(prefix, (line) => lines.push(Buffer.from(line).toString("latin1")));
  return { lines, splitter };
};

t.test("lines are prefixed whole, however the chunks fall", async (t) => {
  const { lines, splitter } = collect();
  for (const chunk of ["one\ntw", "o\n", "", "\nthree", " and more\nfour"]) splitter.push(Buffer.from(chunk));
  t.same(lines, ["web | one\n", "web | two\n", "web | \n", "web | three and more\n"]);
  splitter.end();
  t.same(lines.at(-1), "web | four\n", "the last line without a newline gets one at the end");
  splitter.end();
  t.equal(lines.length, 5, "nothing more at a second end");
});

t.test("a line longer than 64 KiB goes out in marked pieces of 64 KiB (issue 13, rough edge)", async (t) => {
  const { lines, splitter } = collect("a | ");
  const long = "x".repeat(MAX_LINE_BYTES * 2 + 10);
  // In odd-sized chunks, as a pipe delivers them.
  for (let at = 0; at < long.length; at += 7000) splitter.push(Buffer.from(long.slice(at, at + 7000)));
  splitter.push(Buffer.from("\nnext\n"));
  t.equal(lines.length, 4);
  t.equal(lines[0], `a | ${"x".repeat(MAX_LINE_BYTES)}${CUT_MARKER}`);
  t.equal(lines[1], `a | ${"x".repeat(MAX_LINE_BYTES)}${CUT_MARKER}`);
  t.equal(lines[2], "a | xxxxxxxxxx\n", "the rest of the line, then its newline");
  t.equal(lines[3], "a | next\n");
});

t.test("a line of exactly 64 KiB is not cut; bytes pass as they are (no decoding)", async (t) => {
  const { lines, splitter } = collect("b | ");
  splitter.push(Buffer.from(`${"y".repeat(MAX_LINE_BYTES)}\n`));
  t.same(lines, [`b | ${"y".repeat(MAX_LINE_BYTES)}\n`]);
  const bytes: Buffer[] = [];
  const raw = new LineSplitter("", (line) => bytes.push(Buffer.from(line)));
  raw.push(Uint8Array.from([0xff, 0xc3]));
  raw.push(Uint8Array.from([0xa9, 0x0a]));
  t.same([...bytes[0]!], [0xff, 0xc3, 0xa9, 0x0a], "invalid UTF-8 and a character split across chunks arrive unchanged");
});

t.test("memory stays bounded: 64 MiB without a newline holds no more than one line's buffer", async (t) => {
  let emitted = 0;
  const splitter = new LineSplitter("c | ", (line) => { emitted += line.length; });
  const chunk = Buffer.alloc(64 * 1024, 0x7a);
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 1024; i++) splitter.push(chunk);
  t.ok(emitted >= 64 * 1024 * 1024, "everything was passed on");
  // The splitter allocates nothing per chunk: only its one line buffer (~64 KiB).
  t.ok(process.memoryUsage().arrayBuffers - before < 4 * 1024 * 1024, "no growth with the input");
});

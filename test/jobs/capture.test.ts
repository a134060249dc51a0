import t from "tap";
import { MIN_CAPTURE_BYTES, OutputCapture, cutMarker } from "../../src/jobs/capture.ts";

// What render() must return for `data` under `limit`: the straightforward model.
const expected = (data: Buffer, limit: number): Buffer => {
  if (data.length <= limit) return data;
  const headLimit = Math.floor(limit / 2);
  const tailLimit = limit - headLimit;
  return Buffer.concat([data.subarray(0, headLimit), cutMarker(data.length - limit), data.subarray(data.length - tailLimit)]);
};

const captureOf = (limit: number, chunks: Buffer[]): OutputCapture => {
  const capture = new OutputCapture(limit);
  for (const chunk of chunks) capture.add(chunk);
  return capture;
};

// Deterministic pseudo-random numbers (mulberry32), so a failure reproduces.
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
};

t.test("under the limit: exactly the input, no marker", async (t) => {
  const capture = captureOf(100, [Buffer.from("out line\n"), Buffer.from("err line\n")]);
  t.same(capture.render(), Buffer.from("out line\nerr line\n"));
  t.equal(capture.totalBytes, 18);
  t.equal(capture.cutBytes, 0);
  t.same(new OutputCapture(100).render(), Buffer.alloc(0), "nothing added: empty");
});

t.test("exactly at the limit: no marker", async (t) => {
  const capture = captureOf(10, [Buffer.from("0123"), Buffer.from("456789")]);
  t.equal(capture.render().toString(), "0123456789");
  t.equal(capture.cutBytes, 0);
});

t.test("one byte over: one byte cut, head and tail halves", async (t) => {
  const capture = captureOf(10, [Buffer.from("0123456789X")]);
  t.equal(capture.cutBytes, 1);
  t.equal(capture.totalBytes, 11);
  t.equal(capture.render().toString(), "01234\n[... boxinit: 1 bytes cut from the middle of the output ...]\n6789X");
});

t.test("one huge chunk, far bigger than the limit", async (t) => {
  const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
  const capture = captureOf(10, [data]);
  t.same(capture.render(), expected(data, 10));
  t.equal(capture.cutBytes, 99_990);
});

t.test("a huge chunk after the tail already holds bytes replaces it", async (t) => {
  const capture = captureOf(8, [Buffer.from("HHHHtt"), Buffer.from("x".repeat(50) + "TAIL")]);
  t.equal(capture.render().toString(), `HHHH${cutMarker(52).toString()}TAIL`);
});

t.test("many one-byte chunks", async (t) => {
  const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7) % 256));
  const capture = captureOf(64, Array.from(data, (byte) => Buffer.from([byte])));
  t.same(capture.render(), expected(data, 64));
  t.equal(capture.totalBytes, 20_000);
  t.equal(capture.cutBytes, 20_000 - 64);
});

t.test("random chunk sizes against the model, across the growth and wrap points", async (t) => {
  const next = random(5);
  for (const limit of [2, 3, 7, 100, 4096, 10_000, 20_001]) {
    for (let round = 0; round < 20; round++) {
      const chunks: Buffer[] = [];
      const count = Math.floor(next() * 60);
      for (let i = 0; i < count; i++) {
        const size = Math.floor(next() ** 3 * limit * 1.5);
        chunks.push(Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256))));
      }
      const data = Buffer.concat(chunks);
      const capture = captureOf(limit, chunks);
      if (!capture.render().equals(expected(data, limit))) {
        t.fail(`limit ${limit}, round ${round}: render differs from the model`);
        return;
      }
      t.equal(capture.cutBytes, Math.max(0, data.length - limit));
    }
  }
});

t.test("an odd limit gives the extra byte to the tail", async (t) => {
  t.equal(captureOf(7, [Buffer.from("abcdefghij")]).render().toString(), `abc${cutMarker(3).toString()}ghij`);
});

t.test("limit 0 or 1 is raised to the minimum of 2: one byte of head, one of tail", async (t) => {
  t.equal(MIN_CAPTURE_BYTES, 2);
  for (const limit of [0, 1, -5, 1.9]) {
    const capture = captureOf(limit, [Buffer.from("abc"), Buffer.from("de")]);
    t.equal(capture.limitBytes, 2, `limit ${limit}`);
    t.equal(capture.render().toString(), `a${cutMarker(3).toString()}e`, `limit ${limit}`);
  }
  t.equal(new OutputCapture(10.9).limitBytes, 10, "floored");
  t.throws(() => new OutputCapture(Number.POSITIVE_INFINITY), RangeError, "memory must stay bounded");
  t.throws(() => new OutputCapture(Number.NaN), RangeError);
});

t.test("bytes, not text: UTF-8 split at the cut stays byte for byte", async (t) => {
  // "é" is C3 A9, "😀" is F0 9F 98 80: a limit of 6 cuts inside both.
  const data = Buffer.from("éééé😀😀", "utf8");
  const capture = captureOf(6, [data.subarray(0, 5), data.subarray(5)]);
  t.same(capture.render(), expected(data, 6));
  t.same(capture.render().subarray(0, 3), Buffer.from([0xc3, 0xa9, 0xc3]), "head ends mid-character");
  const invalid = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
  t.same(captureOf(100, [invalid]).render(), invalid, "invalid UTF-8 and NUL pass through");
});

t.test("chunks are copied: the caller may reuse its buffer", async (t) => {
  const buffer = Buffer.from("abcdef");
  const capture = new OutputCapture(4);
  capture.add(buffer);
  buffer.fill("z");
  capture.add(buffer.subarray(0, 1));
  t.equal(capture.render().toString(), `ab${cutMarker(3).toString()}fz`);
});

t.test("render is repeatable and adding may continue after it", async (t) => {
  const capture = captureOf(4, [Buffer.from("abcdef")]);
  t.same(capture.render(), capture.render());
  capture.add(Buffer.from("gh"));
  t.equal(capture.render().toString(), `ab${cutMarker(4).toString()}gh`);
});

t.test("gigabyte-style output: memory stays bounded by the limit", async (t) => {
  const limit = 1 << 20;
  const chunk = Buffer.alloc(64 * 1024, "x");
  const before = process.memoryUsage().arrayBuffers;
  const capture = new OutputCapture(limit);
  for (let i = 0; i < 4096; i++) capture.add(chunk); // 256 MiB
  capture.add(Buffer.from("END"));
  const grownBy = process.memoryUsage().arrayBuffers - before;
  t.ok(grownBy < 8 * limit, `external memory grew by ${grownBy} bytes for 256 MiB of output`);
  t.equal(capture.totalBytes, 256 * 1024 * 1024 + 3);
  t.equal(capture.cutBytes, 256 * 1024 * 1024 + 3 - limit);
  t.equal(capture.render().subarray(-3).toString(), "END");
});

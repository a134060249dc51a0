import type Dockerode from "dockerode";
import t from "tap";
import { failureHeader, failureTime, frameReader } from "../../src/host/failure-log.ts";

/** One frame of Docker's multiplexed stream: [stream, 0, 0, 0, size (uint32 BE)] then the bytes. */
const frame = (stream: 1 | 2, payload: Buffer | string): Buffer => {
  const bytes = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(bytes.length, 4);
  return Buffer.concat([header, bytes]);
};

// Sizes above 255 need two size bytes; payloads that look like headers must stay payload.
const PAYLOADS: [1 | 2, Buffer][] = [
  [1, Buffer.from("hello\n")],
  [2, Buffer.alloc(0)],
  [2, Buffer.from("warning: é ☃\n")],
  [1, Buffer.from([1, 0, 0, 0, 0, 0, 0, 9, 2, 0, 0, 0])],
  [1, Buffer.alloc(300, "x")],
  [2, Buffer.alloc(0)],
  [1, Buffer.alloc(1000, "y")],
  [2, Buffer.from("last line, no newline")],
];
const STREAM = Buffer.concat(PAYLOADS.map(([stream, payload]) => frame(stream, payload)));
const OUTPUT = Buffer.concat(PAYLOADS.map(([, payload]) => payload));

/** Stream offsets where a frame ends, i.e. where stopping is not a cut (0 included). */
const frameEnds = (): Set<number> => {
  const ends = new Set([0]);
  let offset = 0;
  for (const [stream, payload] of PAYLOADS) ends.add((offset += frame(stream, payload).length));
  return ends;
};

/** Output offsets where a frame's payload ends: a payload piece must never straddle one. */
const payloadEnds = (): number[] => {
  let offset = 0;
  return PAYLOADS.map(([, payload]) => (offset += payload.length));
};

/** Feed chunks; the payload pieces in order, and whether the reader says the stream was cut. */
const readAll = (chunks: Buffer[]): { pieces: Buffer[]; isCut: boolean } => {
  const pieces: Buffer[] = [];
  const reader = frameReader((bytes) => pieces.push(Buffer.from(bytes)));
  for (const chunk of chunks) reader.push(chunk);
  return { pieces, isCut: reader.isCut() };
};

/** What is wrong with the pieces, if anything: they must be the payloads in order, none empty, none across a frame's end. */
const piecesProblem = (pieces: Buffer[]): string | undefined => {
  if (!Buffer.concat(pieces).equals(OUTPUT)) return "not the payloads in order";
  if (pieces.some((piece) => piece.length === 0)) return "an empty piece";
  let offset = 0;
  const boundaries = new Set(pieces.map((piece) => (offset += piece.length)));
  const ends = payloadEnds();
  if (!ends.every((end, index) => end === (index === 0 ? 0 : ends[index - 1]) || boundaries.has(end))) return "a piece spans two frames";
  return undefined;
};

t.test("the stream in one chunk", async (t) => {
  const { pieces, isCut } = readAll([STREAM]);
  t.equal(piecesProblem(pieces), undefined);
  t.equal(pieces.length, PAYLOADS.filter(([, payload]) => payload.length > 0).length, "one piece per non-empty frame");
  t.notOk(isCut);
});

t.test("split in two at every byte, headers included", async (t) => {
  const problems: string[] = [];
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const { pieces, isCut } = readAll([STREAM.subarray(0, cut), STREAM.subarray(cut)]);
    const problem = piecesProblem(pieces) ?? (isCut ? "cut" : undefined);
    if (problem !== undefined) problems.push(`at ${cut}: ${problem}`);
  }
  t.same(problems, [], "the same payloads wherever the cut, and never cut once all bytes arrived");
});

t.test("one byte at a time", async (t) => {
  const chunks = Array.from(STREAM, (byte) => Buffer.from([byte]));
  const { pieces, isCut } = readAll(chunks);
  t.equal(piecesProblem(pieces), undefined);
  t.notOk(isCut);
});

t.test("three chunks at every pair of offsets inside the first frames", async (t) => {
  const prefix = frame(1, "hello\n").length + frame(2, "").length + 8 + 4;
  let failures = 0;
  for (let first = 0; first <= prefix; first++) {
    for (let second = first; second <= prefix; second++) {
      const { pieces, isCut } = readAll([STREAM.subarray(0, first), STREAM.subarray(first, second), STREAM.subarray(second)]);
      if (piecesProblem(pieces) !== undefined || isCut) failures++;
    }
  }
  t.equal(failures, 0);
});

t.test("isCut: a stream that stops inside a header or a payload", async (t) => {
  const ends = frameEnds();
  const wrong: number[] = [];
  for (let stop = 0; stop <= STREAM.length; stop++) {
    const { pieces, isCut } = readAll([STREAM.subarray(0, stop)]);
    if (isCut === ends.has(stop)) wrong.push(stop);
    if (!OUTPUT.subarray(0, Buffer.concat(pieces).length).equals(Buffer.concat(pieces))) wrong.push(-stop);
  }
  t.same(wrong, [], "cut exactly when the stream stops off a frame's end, and what came is a prefix of the output");
  t.ok(readAll([frame(1, "abc").subarray(0, 8)]).isCut, "a header that announces bytes that never come");
  t.ok(readAll([frame(1, "abc").subarray(0, 5)]).isCut, "half a header");
  t.notOk(readAll([frame(1, "")]).isCut, "a zero-length frame is whole with its header");
  t.notOk(readAll([]).isCut, "nothing at all");
});

t.test("a frame above 64 KiB: all four size bytes count", async (t) => {
  const big = Buffer.alloc(70_000, "z");
  const stream = Buffer.concat([frame(2, big), frame(1, "after")]);
  for (const cut of [1, 4, 5, 6, 7, 8, 9, 65_536, stream.length - 3]) {
    const { pieces, isCut } = readAll([stream.subarray(0, cut), stream.subarray(cut)]);
    t.ok(Buffer.concat(pieces).equals(Buffer.concat([big, Buffer.from("after")])) && !isCut, `split at ${cut}`);
  }
  t.ok(readAll([stream.subarray(0, 8 + 65_536)]).isCut, "64 KiB of 70 000 bytes is a cut");
});

t.test("zero-length frames give no payload", async (t) => {
  const { pieces, isCut } = readAll([Buffer.concat([frame(1, ""), frame(2, ""), frame(1, "a"), frame(2, "")])]);
  t.same(pieces.map(String), ["a"]);
  t.notOk(isCut);
});

t.test("failureTime: the container's FinishedAt", async (t) => {
  const now = new Date("2030-01-01T00:00:00Z");
  t.equal(failureTime("2026-11-26T07:55:16.123456789Z", now).toISOString(), "2026-11-26T07:55:16.123Z", "Docker's nanoseconds");
  t.equal(failureTime("2026-11-26T09:55:16+02:00", now).toISOString(), "2026-11-26T07:55:16.000Z", "an offset");
  for (const finishedAt of ["0001-01-01T00:00:00Z", "garbage", "", undefined]) {
    t.equal(failureTime(finishedAt, now), now, `${JSON.stringify(finishedAt)}: now`);
  }
});

const INFO = {
  Id: "0123456789abcdef0123456789abcdef", Name: "/app-production", Image: "sha256:feedface",
  Config: { Image: "team/app:run", Hostname: "app-host", Tty: false },
  State: {
    Status: "exited", Running: false, OOMKilled: false, ExitCode: 3, Error: "",
    StartedAt: "2026-11-26T07:00:00Z", FinishedAt: "2026-11-26T07:55:16Z",
  },
};

const infoWith = (over: { Name?: string; Config?: object; State?: object } = {}): Dockerode.ContainerInspectInfo => ({
  ...INFO, ...(over.Name !== undefined && { Name: over.Name }),
  Config: { ...INFO.Config, ...over.Config }, State: { ...INFO.State, ...over.State },
} as unknown as Dockerode.ContainerInspectInfo);

t.test("failureHeader: what ran, where, and how it ended", async (t) => {
  t.equal(failureHeader(infoWith(), "app"), [
    "# boxinit host cron failure report",
    "book: app",
    "container: app-production (0123456789ab)",
    "image: team/app:run (sha256:feedface)",
    "host: app-host",
    "started: 2026-11-26T07:00:00Z",
    "finished: 2026-11-26T07:55:16Z",
    "result: exit 3",
    "--- output (stdout and stderr as they arrived) ---",
    "",
  ].join("\n"));
});

t.test("failureHeader: out of memory, and the engine's error line only when it has one", async (t) => {
  const oom = failureHeader(infoWith({ State: { OOMKilled: true, ExitCode: 137 } }), "app");
  t.match(oom, /\nresult: exit 137 \(killed by the kernel: out of memory\)\n/);
  t.notMatch(oom, /engine error/);
  const failed = failureHeader(infoWith({ State: { ExitCode: 127, Error: 'exec: "/start": not found' } }), "app");
  t.match(failed, /\nresult: exit 127\nengine error: exec: "\/start": not found\n--- output/);
  t.notMatch(failureHeader(infoWith(), "app"), /out of memory|engine error/);
});

t.test("failureHeader: control characters in names cannot forge a line", async (t) => {
  const header = failureHeader(infoWith({
    Name: "/evil\nresult: exit 0",
    Config: { Image: "img\r\nhost: forged", Hostname: "h\u001b[2J\u0085x" },
    State: { Error: "boom\n--- output (stdout and stderr as they arrived) ---" },
  }), "book\nfinished: never");
  const lines = header.split("\n");
  t.same(lines.map((line) => line.split(":")[0]), [
    "# boxinit host cron failure report", "book", "container", "image", "host", "started", "finished", "result", "engine error",
    "--- output (stdout and stderr as they arrived) ---", "",
  ], "the same ten lines as without the controls, each with its own key");
  t.equal(lines[1], "book: book\\nfinished: never");
  t.equal(lines[2], "container: evil\\nresult: exit 0 (0123456789ab)");
  t.equal(lines[3], "image: img\\r\\nhost: forged (sha256:feedface)");
  t.equal(lines[4], "host: h\\x1b[2J\\x85x");
  t.equal(lines[8], "engine error: boom\\n--- output (stdout and stderr as they arrived) ---");
  t.notMatch(header, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, "no control character but the line ends");
});

// pid1/polled-pipe.ts: a child's output read from a non-blocking pipe
// without a stream: what is there when the child ends, what a child still
// running writes (by the poll), the end of file, a flood read in bounded
// turns, the fd closed by destroy; and with streamAfterFirstPoll (a job's
// output) a real writer's 4 MiB, read through a socket after the first poll.
// Real pipes from the built addon.
import t from "tap";
import { spawn } from "node:child_process";
import { closeSync, fstatSync, writeSync } from "node:fs";
import { PolledPipe } from "../../src/pid1/polled-pipe.ts";
import { loadAddon } from "../helpers/addon.ts";

const native = loadAddon();

/** A non-blocking read end and its write end, with a PolledPipe over it and a way to say the child ended. */
const polled = () => {
  const [readFd, writeFd] = native.makePipe();
  t.ok(native.setNonBlocking(readFd), "the read end is non-blocking");
  let end: () => void = () => {};
  const ended = new Promise<void>((resolve) => (end = resolve));
  const pipe = new PolledPipe(readFd, ended);
  const chunks: Buffer[] = [];
  pipe.on("data", (chunk: Buffer) => chunks.push(chunk));
  pipe.on("error", (error: Error) => t.fail(`no read error expected: ${error.message}`));
  const text = (): string => Buffer.concat(chunks).toString();
  return { readFd, writeFd, end, ended, pipe, text };
};

t.test("what the child wrote is read when it ends, before the end is handled elsewhere; then the end of file", async (t) => {
  const { writeFd, end, ended, pipe, text } = polled();
  writeSync(writeFd, "first line\nwhy it failed\n");
  closeSync(writeFd);
  end();
  // Registered after the pipe's own: runs after its read, as warmup.ts's does.
  await ended.then(() => {
    t.equal(text(), "first line\nwhy it failed\n", "all of it, at once");
    t.ok(pipe.readableEnded, "and the end of file seen");
  });
});

t.test("a child that runs on: its output arrives by the poll; destroy closes the read end", async (t) => {
  const { readFd, writeFd, pipe, text } = polled();
  writeSync(writeFd, "still warming up\n");
  await new Promise<void>((resolve) => pipe.on("data", () => resolve()));
  t.equal(text(), "still warming up\n");
  t.notOk(pipe.readableEnded, "the write end is still open");
  const closed = new Promise<void>((resolve) => pipe.once("close", () => resolve()));
  pipe.destroy();
  await closed;
  t.throws(() => fstatSync(readFd), { code: "EBADF" }, "the read end is closed");
  closeSync(writeFd);
});

t.test("a child that keeps the pipe open past its end (a background grandchild): no end of file, nothing blocks", async (t) => {
  const { writeFd, end, ended, pipe, text } = polled();
  writeSync(writeFd, "last words\n");
  end();
  await ended.then(() => {
    t.equal(text(), "last words\n");
    t.notOk(pipe.readableEnded);
  });
  pipe.destroy();
  closeSync(writeFd);
});

t.test("a flood is read in bounded turns: 1 MiB at the end is read at once, its end of file at the next poll", async (t) => {
  const { writeFd, end, ended, pipe, text } = polled();
  const size = native.growPipe(writeFd, 1024 * 1024);
  if (size !== 1024 * 1024) return t.fail(`the pipe could not hold 1 MiB (got ${size})`);
  const all = Buffer.alloc(size);
  for (let i = 0; i < size; i++) all[i] = 97 + (i % 26);
  t.equal(writeSync(writeFd, all), size, "written without blocking");
  closeSync(writeFd);
  const endOfFile = new Promise<void>((resolve) => pipe.once("end", () => resolve()));
  end();
  await ended.then(() => {
    t.equal(text().length, size, "the turn at the end read 16 × 64 KiB");
    t.notOk(pipe.readableEnded, "and stopped there, the end of file left for the next turn");
  });
  await endOfFile;
  t.equal(text(), all.toString(), "every byte, in order");
});

t.test("streamAfterFirstPoll: a writer still running at the first poll is read through a socket: 4 MiB in order, then the end", async (t) => {
  const [readFd, writeFd] = native.makePipe();
  t.ok(native.setNonBlocking(readFd));
  // A real writer: it waits past the first poll, then writes 4 MiB, far more than the pipe holds.
  const size = 4 * 1024 * 1024;
  const writer = spawn("sh", ["-c", `sleep 0.2; yes 0123456789abcdef | head -c ${size}`], { stdio: ["ignore", writeFd, "inherit"] });
  closeSync(writeFd);
  const ended = new Promise<void>((resolve) => writer.once("exit", () => resolve()));
  const pipe = new PolledPipe(readFd, ended, { streamAfterFirstPoll: true });
  const chunks: Buffer[] = [];
  pipe.on("data", (chunk: Buffer) => chunks.push(chunk));
  pipe.on("error", (error: Error) => t.fail(`no read error expected: ${error.message}`));
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    pipe.once("end", () => order.push("end"));
    pipe.once("close", () => {
      order.push("close");
      resolve();
    });
  });
  const text = Buffer.concat(chunks).toString();
  t.equal(text.length, size, "every byte");
  t.equal(text, "0123456789abcdef\n".repeat(size / 17 + 1).slice(0, size), "in order");
  t.same(order, ["end", "close"], "the end, then the close, as a stream says them");
  t.ok(pipe.readableEnded);
  t.ok(pipe.isStreaming, "read through a socket once the first poll found the writer still running");
});

t.test("streamAfterFirstPoll: a child over before the first poll never needs a socket", async (t) => {
  const [readFd, writeFd] = native.makePipe();
  t.ok(native.setNonBlocking(readFd));
  writeSync(writeFd, "done\n");
  closeSync(writeFd);
  const pipe = new PolledPipe(readFd, Promise.resolve(), { streamAfterFirstPoll: true });
  const chunks: Buffer[] = [];
  pipe.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => pipe.once("close", () => resolve()));
  t.equal(Buffer.concat(chunks).toString(), "done\n");
  t.ok(pipe.readableEnded);
  t.notOk(pipe.isStreaming, "read by the drain at its end: no socket made");
});

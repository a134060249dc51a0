// `boxinit logs` (src/modes/logs.ts over control/log-read.ts and
// control/log-follow.ts), in process: files written by the real writer
// (log/log-file.ts), output captured. The tail across rotated files with a
// block smaller than a file, -n 0, the service list, a symlink planted at a
// rotated file, -f through rotations (one and two between two looks) until
// the stop. The compiled binary and its signals: integration/logs-command.test.ts.
import t from "tap";
import { readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseLogsArgs } from "../../src/cli/logs.ts";
import type { DirHandle } from "../../src/control/dir-handle.ts";
import { openLogDir } from "../../src/control/log-dir.ts";
import { copyRange, findTail, openServiceLogs, closeLogs } from "../../src/control/log-read.ts";
import { LogFollower } from "../../src/control/log-follow.ts";
import { LogFile } from "../../src/log/log-file.ts";
import { defaultLogPlace, showLogs, logsCommand, type LogsIo } from "../../src/modes/logs.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";

const captured = (): LogsIo & { text: string; err: string } => {
  const io = { text: "", err: "", out: (bytes: Buffer) => ((io.text += bytes.toString()), true), stderr: (text: string) => void (io.err += text) };
  return io;
};

const line = (index: number): string => `line ${String(index).padStart(6, "0")}\n`;
const tagged = (from: number, to: number): string => Array.from({ length: to - from }, (_, index) => `out ${line(from + index)}`).join("");

/** A writer on STATE/logs/services/web.log: 4 KiB files, 3 kept, no timestamps. */
const writer = (t: { teardown(fn: () => void): void }, stateDir: string, name = "web") => {
  const dir = join(stateDir, "logs", "services");
  const file = new LogFile({ name, dir, maxSizeBytes: 4096, keep: 3, timestamps: false, log: recordingLogger().log, openDir: () => openLogDir(dir, stateDir, undefined, true) });
  t.teardown(() => file.close());
  let next = 0;
  return { dir, file, write: (count: number) => { for (let end = next + count; next < end; next++) file.write(Buffer.from(line(next)), "stdout"); return next; } };
};

const noStop = new AbortController().signal;

t.test("the last N lines across rotated files, in order", async (t) => {
  const stateDir = tempDir(t);
  const { write } = writer(t, stateDir);
  write(1000); // 16 bytes a line after the tag: about 256 lines a file, so four files
  t.equal(readdirSync(join(stateDir, "logs", "services")).length, 4);
  for (const lines of [0, 1, 5, 300, 700]) {
    const io = captured();
    t.equal(await showLogs(defaultLogPlace(stateDir), { service: "web", lines, isFollowing: false }, io, noStop), 0);
    t.equal(io.text, tagged(1000 - lines, 1000), `-n ${lines}`);
  }
  const io = captured();
  await showLogs(defaultLogPlace(stateDir), { service: "web", lines: 5000, isFollowing: false }, io, noStop);
  const first = Number(/line (\d+)/.exec(io.text)![1]);
  t.equal(io.text, tagged(first, 1000), "more than there is: everything retained, oldest first");
});

t.test("the tail with a block far smaller than a file, and a line being written left out", async (t) => {
  const stateDir = tempDir(t);
  const { dir, write } = writer(t, stateDir);
  write(600);
  writeFileSync(join(dir, "web.log"), "out half a li", { flag: "a" });
  const handle = openLogDir(dir, stateDir, undefined, false);
  t.teardown(() => handle.close());
  const files = openServiceLogs(handle, "web");
  t.teardown(() => closeLogs(files));
  let text = "";
  const range = findTail(files, 300, Buffer.alloc(7));
  copyRange(files, range, (bytes) => ((text += bytes.toString()), true), Buffer.alloc(5));
  t.equal(text, tagged(300, 600));
});

t.test("without SERVICE: the services that have a log file", async (t) => {
  const stateDir = tempDir(t);
  writer(t, stateDir, "web").write(1);
  writer(t, stateDir, "shipper").write(1);
  const io = captured();
  t.equal(await showLogs(defaultLogPlace(stateDir), { lines: 10, isFollowing: false }, io, noStop), 0);
  t.equal(io.text, "shipper\nweb\n");
});

t.test("no such service, no log directory: exit 1 and why", async (t) => {
  const stateDir = tempDir(t);
  const io = captured();
  t.equal(await showLogs(defaultLogPlace(stateDir), { service: "web", lines: 10, isFollowing: false }, io, noStop), 1);
  t.match(io.err, /logs\/services: does not exist .*is log_files: set/);
  writer(t, stateDir, "web").write(1);
  const other = captured();
  t.equal(await showLogs(defaultLogPlace(stateDir), { service: "db", lines: 10, isFollowing: false }, other, noStop), 1);
  t.match(other.err, /db: no log file .*db\.log \(services with one: web\)/);
});

t.test("a symlink planted at a rotated file: refused, not printed", async (t) => {
  const stateDir = tempDir(t);
  const { dir, write } = writer(t, stateDir);
  write(10);
  const secret = join(tempDir(t), "secret");
  writeFileSync(secret, "secret\n");
  symlinkSync(secret, join(dir, "web.log.1"));
  const io = captured();
  t.equal(await showLogs(defaultLogPlace(stateDir), { service: "web", lines: 100, isFollowing: false }, io, noStop), 1);
  t.notMatch(io.text, /secret/);
  t.match(io.err, /web: .*(ELOOP|symbolic links)/);
});

t.test("-f: new lines through one rotation, then two between two looks, until the stop", async (t) => {
  const stateDir = tempDir(t);
  const { dir, write } = writer(t, stateDir);
  write(100);
  const handle = openLogDir(dir, stateDir, undefined, false);
  t.teardown(() => handle.close());
  const files = openServiceLogs(handle, "web");
  const range = findTail(files, 3, Buffer.alloc(64));
  let text = "";
  copyRange(files, range, (bytes) => ((text += bytes.toString()), true));
  const follower = new LogFollower(handle, "web", { file: files.pop(), offset: range.end }, (bytes) => ((text += bytes.toString()), true));
  closeLogs(files);
  t.teardown(() => follower.close());
  t.equal(text, tagged(97, 100));
  write(300); // one rotation
  follower.step();
  t.equal(text, tagged(97, 400), "through one rotation");
  write(600); // two rotations before the next look
  follower.step();
  t.equal(text, tagged(97, 1000), "through two rotations between two looks");
  const stop = new AbortController();
  const watching = follower.watchUntil(stop.signal);
  write(5);
  await waitFor("the watch to print the new lines", () => text.endsWith(line(1004)));
  stop.abort();
  await watching;
  t.equal(text, tagged(97, 1005));
});

t.test("-f behind by more than keep rotations: the files left are printed in order, and a warning says lines were missed", async (t) => {
  const stateDir = tempDir(t);
  const { dir, write } = writer(t, stateDir);
  write(10);
  const handle = openLogDir(dir, stateDir, undefined, false);
  t.teardown(() => handle.close());
  const files = openServiceLogs(handle, "web");
  const range = findTail(files, 0);
  let text = "";
  const warnings: string[] = [];
  const follower = new LogFollower(handle, "web", { file: files.pop(), offset: range.end }, (bytes) => ((text += bytes.toString()), true), (warning) => warnings.push(warning));
  t.teardown(() => follower.close());
  write(2000); // about eight rotations, three old files kept
  follower.step();
  const numbers = text.split("\n").slice(0, -1).map((printed) => Number(/line (\d+)/.exec(printed)![1]));
  t.same(numbers.slice(-800), Array.from({ length: 800 }, (_, index) => 1210 + index), "the newest lines, in order, none twice");
  t.ok(numbers.every((number, index) => index === 0 || number > numbers[index - 1]!), "in order throughout");
  t.match(warnings, [/rotated more often than it could be read/]);
});

t.test("-f: a readdir that misses a rotated name (racing a rename) loses nothing and repeats nothing", async (t) => {
  const stateDir = tempDir(t);
  const { dir, write } = writer(t, stateDir);
  write(600); // web.log.2 and web.log.1 exist, older than what is followed
  const real = openLogDir(dir, stateDir, undefined, false);
  t.teardown(() => real.close());
  // readdir may leave out an entry renamed while it reads (POSIX leaves it unspecified): here always web.log.1.
  const racing: DirHandle = {
    path: real.path, isByDescriptor: real.isByDescriptor,
    open: (name, flags, mode) => real.open(name, flags, mode), subdir: (name, mode) => real.subdir(name, mode),
    rename: (from, to) => real.rename(from, to), link: (from, to) => real.link(from, to), unlink: (name) => real.unlink(name),
    stat: (name) => real.stat(name), sync: () => real.sync(), close: () => real.close(),
    list: () => real.list().filter((name) => name !== "web.log.1"),
  };
  const files = openServiceLogs(real, "web");
  const range = findTail(files, 0);
  let text = "";
  const warnings: string[] = [];
  const follower = new LogFollower(racing, "web", { file: files.pop(), offset: range.end }, (bytes) => ((text += bytes.toString()), true), (warning) => warnings.push(warning));
  closeLogs(files);
  t.teardown(() => follower.close());
  write(200); // one rotation: the followed file is now web.log.1, which the listing leaves out
  follower.step();
  t.equal(text, tagged(600, 800));
  t.same(warnings, []);
});

t.test("logsCommand: usage errors exit 2, --state-dir reads STATE/logs/services", async (t) => {
  const stateDir = tempDir(t);
  writer(t, stateDir).write(3);
  const io = captured();
  t.equal(await logsCommand(["--state-dir", stateDir, "web", "-n", "2"], io), 0);
  t.equal(io.text, tagged(1, 3));
  const bad = captured();
  t.equal(await logsCommand(["web", "-n", "many"], bad), 2);
  t.match(bad.err, /-n: expected a count of lines/);
  t.same(parseLogsArgs(["-n5", "--follow", "web"]), { lines: 5, isFollowing: true, service: "web" });
  t.same(parseLogsArgs(["--lines=0", "web", "--log-dir=/x"]), { lines: 0, isFollowing: false, service: "web", logDir: "/x" });
  t.same(parseLogsArgs(["web", "db"]), { error: 'unexpected argument "db"' });
  t.same(parseLogsArgs([".."]), { error: 'not a service name: ".."' });
});

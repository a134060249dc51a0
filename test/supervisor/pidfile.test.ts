import t from "tap";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStat } from "../../src/pid1/proc-table.ts";
import { isProcessAlive, parsePidfileContent, pidfileIdentity, readPidfile, waitForPidfile } from "../../src/supervisor/pidfile.ts";
import { deadPid, waitUntil } from "../helpers/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "boxinit-pidfile-"));
const children: ChildProcess[] = [];
t.teardown(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
const pidfile = (content?: string): string => {
  const path = join(dir, `p${fileCount++}.pid`);
  if (content !== undefined) writeFileSync(path, content);
  return path;
};

const startSleep = async (): Promise<number> => {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  children.push(child);
  await once(child, "spawn");
  return child.pid!;
};

t.test("reading", async (t) => {
  t.same(readPidfile(pidfile("1234\n")), { pid: 1234 });
  t.same(readPidfile(pidfile("  42 \r\n")), { pid: 42 });
  t.same(readPidfile(pidfile("4194304")), { pid: 4194304 });
  const abc = pidfile("abc");
  t.same(readPidfile(abc), { problem: `pidfile ${abc}: expected a process id, got "abc"` });
  const zero = pidfile("0\n");
  t.same(readPidfile(zero), { problem: `pidfile ${zero}: expected a process id from 1 to 4194304, got "0"` });
  t.match(readPidfile(pidfile("4194305")), { problem: /from 1 to 4194304, got "4194305"/ });
  t.match(readPidfile(pidfile("-5")), { problem: /expected a process id, got "-5"/ });
  t.match(readPidfile(pidfile("12 34")), { problem: /got "12 34"/ });
  t.match(readPidfile(pidfile("1.5")), { problem: /got "1.5"/ });
  const empty = pidfile("");
  t.same(readPidfile(empty), { problem: `pidfile ${empty}: is empty` });
  const missing = pidfile();
  t.same(readPidfile(missing), { problem: `pidfile ${missing}: does not exist` });
  t.match(readPidfile(join(dir, "no-dir", "x.pid")), { problem: /does not exist/ });
});

t.test("a large file is not read whole, and says it was cut", async (t) => {
  const result = readPidfile(pidfile("7".repeat(10 * 1024 * 1024)));
  t.match(result, { problem: /expected a process id on its first line, got "7{40}\.\.\."$/ });
  t.same(readPidfile(pidfile(`77\n${"x".repeat(10 * 1024 * 1024)}`)), { pid: 77 }, "a first line within the limit is enough");
});

// PostgreSQL 15's postmaster.pid as it writes it (src/backend/utils/init/miscinit.c):
// pid, data directory, start time, port, socket directory, listen address, shared memory key, status.
const POSTMASTER_PID = "4242\n/var/lib/postgresql/15/main\n1764640000\n5432\n/var/run/postgresql\n127.0.0.1\n  5432001    131072\nready   \n";

t.test("the pid is the first line: row by row", async (t) => {
  const rows: Array<[string, string, unknown]> = [
    ["a bare number", "1234", { kind: "pid", pid: 1234, isLineEnded: false }],
    ["a number and a newline", "1234\n", { kind: "pid", pid: 1234, isLineEnded: true }],
    ["surrounding whitespace, CRLF", "  42 \r\n", { kind: "pid", pid: 42, isLineEnded: true }],
    ["postmaster.pid (more lines follow)", POSTMASTER_PID, { kind: "pid", pid: 4242, isLineEnded: true }],
    ["catalina.pid (echo $!)", "815\n", { kind: "pid", pid: 815, isLineEnded: true }],
    ["a blank first line before a pid", "\n1234\n", { kind: "invalid" }],
    ["only whitespace", " \n \n", { kind: "empty" }],
    ["nothing", "", { kind: "empty" }],
    ["a word", "abc\n", { kind: "invalid" }],
    ["two numbers on the line", "12 34\n", { kind: "invalid" }],
    ["a negative number", "-5", { kind: "invalid" }],
    ["zero", "0\n", { kind: "invalid" }],
    ["above PID_MAX_LIMIT", "4194305\n", { kind: "invalid" }],
    ["PID_MAX_LIMIT itself", "4194304\n", { kind: "pid", pid: 4194304 }],
  ];
  for (const [what, content, expected] of rows) t.match(parsePidfileContent("/p", content), expected, what);
  t.match(parsePidfileContent("/p", "123", true), { kind: "invalid", problem: /first line/ }, "a first line cut by the size limit");
});

t.test("reading postmaster.pid gives the postmaster's pid", async (t) => {
  t.same(readPidfile(pidfile(POSTMASTER_PID)), { pid: 4242 });
});

t.test("a directory or a FIFO is refused without blocking", async (t) => {
  const sub = join(dir, "sub.pid");
  mkdirSync(sub);
  t.match(readPidfile(sub), { problem: /is not a regular file/ });
  const fifo = join(dir, "fifo.pid");
  execFileSync("mkfifo", [fifo]);
  t.match(readPidfile(fifo), { problem: /is not a regular file/ });
});

t.test("alive, dead, zombie", async (t) => {
  t.ok(isProcessAlive(process.pid), "this process");
  t.ok(isProcessAlive(await startSleep()), "a sleeping child");
  t.notOk(isProcessAlive(deadPid()), "a reaped child");
  t.ok(isProcessAlive(1), "pid 1 (EPERM unless root: still alive)");
  t.notOk(isProcessAlive(0), "0 is not a process");
  t.notOk(isProcessAlive(-1), "-1 is not a process");
  // The background subshell exits only once sh has become `sleep`, which never
  // waits for children: it stays a zombie (exiting earlier, sh could reap it).
  const script = 'until [ "$(cat /proc/$$/comm)" = sleep ]; do sleep 0.01; done & echo $!; exec sleep 30';
  const parent = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
  children.push(parent);
  const [line] = (await once(parent.stdout!, "data")) as [Buffer];
  const zombie = Number(line.toString().trim());
  const isZombie = (): boolean => parseStat(readFileSync(`/proc/${zombie}/stat`, "latin1"))?.state === "Z";
  await waitUntil(isZombie, "the zombie");
  t.notOk(isProcessAlive(zombie), "a zombie counts as dead");
});

t.test("waiting: the file appears later", async (t) => {
  const pid = await startSleep();
  const path = pidfile();
  setTimeout(() => writeFileSync(path, `${pid}\n`), 60);
  t.same(await waitForPidfile(path, 5000), { pid });
});

t.test("waiting: an empty file is waited on until it has the pid", async (t) => {
  const pid = await startSleep();
  const path = pidfile("");
  setTimeout(() => writeFileSync(path, `${pid}`), 60);
  t.same(await waitForPidfile(path, 5000), { pid });
});

t.test("waiting: a file that never appears", async (t) => {
  const path = pidfile();
  const startedAt = Date.now();
  t.same(await waitForPidfile(path, 100), { problem: `pidfile ${path} did not appear within 100ms` });
  t.ok(Date.now() - startedAt >= 95, "waited the timeout");
  const empty = pidfile("");
  t.same(await waitForPidfile(empty, 50), { problem: `pidfile ${empty} was still empty after 50ms` });
  t.match(await waitForPidfile(pidfile("x"), 50), { problem: /expected a process id, got "x" \(still, after 50ms\)$/ });
});

t.test("waiting: a pidfile naming a dead pid ends the wait at once", async (t) => {
  const pid = deadPid();
  const path = pidfile(`${pid}\n`);
  const startedAt = Date.now();
  t.same(await waitForPidfile(path, 10_000), { problem: `pidfile ${path} names pid ${pid}, which is not running` });
  t.ok(Date.now() - startedAt < 8000, "did not wait for the 10s timeout");
});

t.test("waiting: a postmaster.pid-style file is followed", async (t) => {
  const pid = await startSleep();
  const path = pidfile();
  setTimeout(() => writeFileSync(path, POSTMASTER_PID.replace("4242", String(pid))), 30);
  t.same(await waitForPidfile(path, 5000), { pid });
});

t.test("waiting: a file left by an earlier run is neither trusted nor touched", async (t) => {
  // A live process, as after a container restart where the pid was reused.
  const pid = await startSleep();
  const path = pidfile(POSTMASTER_PID.replace("4242", String(pid)));
  // An mtime in the past, as a file from an earlier run has.
  utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const before = pidfileIdentity(path);
  t.ok(before, "the identity of the file before the start");
  const contentBefore = readFileSync(path, "latin1");
  const mtimeBefore = statSync(path).mtimeMs;
  t.match(await waitForPidfile(path, 100, { before, timeoutLabel: "pidfile_timeout (100ms)" }), {
    problem: new RegExp(`still holds what it held before this start \\(pid ${pid}, from an earlier run\\): the start did not write it within pidfile_timeout \\(100ms\\)`),
  });
  t.equal(readFileSync(path, "latin1"), contentBefore, "the application's file was not rewritten");
  t.equal(statSync(path).mtimeMs, mtimeBefore, "nor touched");

  // The new daemon rewrites it in place: that is this start's file.
  const daemon = await startSleep();
  setTimeout(() => writeFileSync(path, `${daemon}\n/data\n`), 30);
  t.same(await waitForPidfile(path, 5000, { before }), { pid: daemon });
});

t.test("waiting: a stale file replaced by rename counts as new", async (t) => {
  const dead = deadPid();
  const path = pidfile(`${dead}\n`);
  const before = pidfileIdentity(path);
  const daemon = await startSleep();
  const next = `${path}.new`;
  writeFileSync(next, `${daemon}\n`);
  execFileSync("mv", [next, path]);
  t.same(await waitForPidfile(path, 5000, { before }), { pid: daemon });
});

t.test("waiting: an old file naming a dead pid is waited past, not an error", async (t) => {
  const dead = deadPid();
  const path = pidfile(`${dead}\n`);
  const before = pidfileIdentity(path);
  const daemon = await startSleep();
  setTimeout(() => writeFileSync(path, `${daemon}\n`), 50);
  t.same(await waitForPidfile(path, 5000, { before }), { pid: daemon }, "the dead pid of the earlier run did not end the wait");
});

t.test("waiting: a first line without its newline must read the same twice", async (t) => {
  const daemon = await startSleep();
  const path = pidfile();
  // A writer half-way through "PID": the first digit alone may name a live
  // process (1 is init). The first read, synchronous in the call, sees the
  // partial line; the completing write is due before the first poll.
  writeFileSync(path, String(daemon).slice(0, 1));
  setTimeout(() => writeFileSync(path, String(daemon)), 5);
  t.same(await waitForPidfile(path, 5000), { pid: daemon }, "the partial pid was not taken");
});

t.test("waiting: abort ends the wait", async (t) => {
  const controller = new AbortController();
  const startedAt = Date.now();
  setTimeout(() => controller.abort(), 50);
  t.match(await waitForPidfile(pidfile(), 10_000, { signal: controller.signal }), { problem: /stopped waiting: cancelled/ });
  t.ok(Date.now() - startedAt < 8000, "ended on the abort, not at the 10s timeout");
  t.match(await waitForPidfile(pidfile(), 10_000, { signal: AbortSignal.abort() }), { problem: /cancelled/ }, "aborted before the start");
});

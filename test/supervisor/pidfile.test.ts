import t from "tap";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStat } from "../../src/pid1/proc-table.ts";
import { isProcessAlive, readPidfile, waitForPidfile } from "../../src/supervisor/pidfile.ts";

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

// A pid that was used and is free now (reuse within the test is vanishingly unlikely).
const deadPid = async (): Promise<number> => {
  const child = spawn("true", [], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
};

const waitUntil = async (isDone: () => boolean, what: string, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!isDone()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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
  t.match(result, { problem: /expected a process id, got "7{40}\.\.\."$/ });
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
  t.notOk(isProcessAlive(await deadPid()), "a reaped child");
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
  const pid = await deadPid();
  const path = pidfile(`${pid}\n`);
  const startedAt = Date.now();
  t.same(await waitForPidfile(path, 10_000), { problem: `pidfile ${path} names pid ${pid}, which is not running` });
  t.ok(Date.now() - startedAt < 8000, "did not wait for the 10s timeout");
});

t.test("waiting: abort ends the wait", async (t) => {
  const controller = new AbortController();
  const startedAt = Date.now();
  setTimeout(() => controller.abort(), 50);
  t.match(await waitForPidfile(pidfile(), 10_000, controller.signal), { problem: /stopped waiting: cancelled/ });
  t.ok(Date.now() - startedAt < 8000, "ended on the abort, not at the 10s timeout");
  t.match(await waitForPidfile(pidfile(), 10_000, AbortSignal.abort()), { problem: /cancelled/ }, "aborted before the start");
});

// The addon's loader and its calls, in a plain Node process (no SEA).
import t from "tap";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { loadNative } from "../../src/native/addon.ts";
import { readFileSync } from "node:fs";
import { ROOT } from "../helpers/boxinit.ts";

/** The state letter in /proc/PID/stat (R, S, Z...), or undefined once the pid is gone. */
const processState = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
};

/** Wait without yielding to the event loop (so libuv cannot reap) until pid is a zombie. */
const waitUntilZombie = (pid: number, timeoutMs: number): boolean => {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processState(pid) === "Z") return true;
    Atomics.wait(nap, 0, 0, 1);
  }
  return false;
};

t.test("an explicit path that does not exist is reported, nothing else is tried", async (t) => {
  const result = loadNative({ BOXINIT_ADDON: "/nonexistent/boxinit.node" });
  t.equal(result.native, undefined);
  t.same(result.failures, ["/nonexistent/boxinit.node: not found"]);
});

t.test("a file that is not an addon is reported with the loader's reason", async (t) => {
  const result = loadNative({ BOXINIT_ADDON: join(ROOT, "package.json") });
  t.equal(result.native, undefined);
  t.match(result.failures[0], /package\.json: /);
});

t.test("the built addon loads and answers", async (t) => {
  const { native, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });
  t.ok(native, failures.join("; "));
  if (!native) return;
  t.ok(native.getpgrp() > 0, "getpgrp answers");
  t.not(native.peekZombie().kind, "zombie", "no child has exited yet: nothing to peek");
  // A child libuv owns: peek sees it exit without reaping it, so libuv still
  // gets its exit event with the right code. libuv reaps only from its event
  // loop, so while this test holds the loop (a synchronous wait) the exited
  // child stays a zombie: the peek is certain to have one to see.
  const child = spawn("/bin/sh", ["-c", "exit 7"]);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
  const pid = child.pid!;
  t.ok(waitUntilZombie(pid, 10_000), `the child ${pid} exited and is a zombie`);
  t.same(native.peekZombie(), { kind: "zombie", pid }, "the peek names it");
  t.equal(processState(pid), "Z", "and left it unreaped");
  t.same(native.peekZombie(), { kind: "zombie", pid }, "a second peek still sees it");
  t.equal(await exited, 7, "libuv still reaped it: the peek did not steal the status");
  t.not(native.peekZombie().kind, "zombie", "once libuv reaped it there is nothing to peek");
  t.equal(native.reap(999_999), undefined, "reaping a pid that is not a child is a no-op");
});

t.test("the written-out errno values are the platform's", async (t) => {
  const { constants } = await import("node:os");
  const { ERRNO } = await import("../../src/native/addon.ts");
  for (const [name, value] of Object.entries(ERRNO)) t.equal(value, constants.errno[name as keyof typeof constants.errno], name);
});

t.test("the *at calls keep the -errno contract: a typed NativeError with the errno's name, the call and the name", async (t) => {
  const { native } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });
  if (!native) throw new Error("the addon does not load");
  const { constants, mkdtempSync, rmSync, openSync, closeSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "boxinit-at-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  t.teardown(() => closeSync(fd));
  t.throws(() => native.openAt(fd, "missing", constants.O_RDONLY), { name: "NativeError", code: "ENOENT", syscall: "openat", path: "missing", message: "openat 'missing': ENOENT" });
  t.throws(() => native.openAt(-1, "x", constants.O_RDONLY), { code: "EBADF" });
  t.throws(() => native.statAt(fd, "missing"), { code: "ENOENT", syscall: "fstatat" });
  t.throws(() => native.unlinkAt(fd, "missing"), { code: "ENOENT", syscall: "unlinkat" });
  t.throws(() => native.renameAt(fd, "missing", fd, "other"), { code: "ENOENT", syscall: "renameat" });
  t.throws(() => native.linkAt(fd, "missing", fd, "other"), { code: "ENOENT", syscall: "linkat" });
  t.throws(() => native.readDir(-1), { code: "EBADF", syscall: "readdir" });
  t.throws(() => native.openAt(fd, 5 as unknown as string, constants.O_RDONLY), TypeError, "a wrong argument is a TypeError, not an errno");
  native.mkdirAt(fd, "sub", 0o755);
  t.throws(() => native.mkdirAt(fd, "sub", 0o755), { code: "EEXIST", syscall: "mkdirat" });
  t.same(native.readDir(fd), ["sub"]);
  t.same(native.readDir(fd), ["sub"], "the descriptor stays usable (read through a duplicate)");
  native.unlinkAt(fd, "sub", true);
  t.same(native.readDir(fd), []);
});

t.test("execSelf keeps the -errno contract when it cannot exec: a NativeError, every fd's close-on-exec flag as it was", async (t) => {
  const { native } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });
  if (!native) return t.fail("dist/boxinit.node did not load: run make");
  t.throws(() => native.execSelf(-1), { name: "NativeError", code: "EINVAL", syscall: "execve" });
  t.throws(() => native.execSelf("3" as unknown as number), TypeError, "a wrong argument is a TypeError, not an errno");
  // One environment string over MAX_ARG_STRLEN (32 pages): the kernel refuses the exec itself.
  const closeOnExec = (): string[] => [0, 1, 2].map((fd) => /^flags:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))![1]!);
  const before = closeOnExec();
  process.env.BOXINIT_TEST_TOO_LONG = "x".repeat(200_000);
  try {
    t.throws(() => native.execSelf(3), { name: "NativeError", code: "E2BIG", syscall: "execve" });
  } finally {
    delete process.env.BOXINIT_TEST_TOO_LONG;
  }
  t.same(closeOnExec(), before, "fds 0-2 have their flags back (Node's close-on-exec)");
});

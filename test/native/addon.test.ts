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

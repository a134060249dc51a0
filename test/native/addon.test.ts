// The addon's loader and its calls, in a plain Node process (no SEA).
import t from "tap";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { loadNative } from "../../src/native/addon.ts";
import { ROOT } from "../helpers/boxinit.ts";

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
  // A child libuv owns: peek sees it exit without reaping it, so libuv still
  // gets its exit event with the right code.
  const child = spawn("/bin/sh", ["-c", "exit 7"]);
  const code = await new Promise<number | null>((resolve) => {
    const poll = setInterval(() => {
      const peek = native.peekZombie();
      if (peek.kind === "zombie") t.equal(peek.pid, child.pid, "the zombie is our child");
    }, 1);
    child.once("exit", (exitCode) => { clearInterval(poll); resolve(exitCode); });
  });
  t.equal(code, 7, "libuv still reaped it: the peek did not steal the status");
  t.equal(native.reap(999_999), undefined, "reaping a pid that is not a child is a no-op");
});

t.test("the written-out errno values are the platform's", async (t) => {
  const { constants } = await import("node:os");
  const { ERRNO } = await import("../../src/native/addon.ts");
  for (const [name, value] of Object.entries(ERRNO)) t.equal(value, constants.errno[name as keyof typeof constants.errno], name);
});

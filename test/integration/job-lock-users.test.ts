// The job lock (src/jobs/lock.ts) between two users: a lock file root created
// still locks for uid 65534, which can open it only read-only (flock needs no
// more). Needs root to act as the second user (fails, never skips, without it).
import t, { type Test } from "tap";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadNative } from "../../src/native/addon.ts";
import { LOCK_DIR, tryJobLock, type LockAttempt, type LockOwner } from "../../src/jobs/lock.ts";
import { processStartTime } from "../../src/pid1/proc-table.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const { native } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });

const me = (overrides: Partial<LockOwner> = {}): LockOwner => ({
  pid: process.pid, startTime: processStartTime(process.pid), host: "testhost", runId: "run-1", startedAt: "2026-11-26T07:55:16.000Z", ...overrides,
});

const lockPath = (stateDir: string, name: string): string => join(stateDir, LOCK_DIR, `${name}.lock`);

const taken = (t: Test, attempt: LockAttempt): Extract<LockAttempt, { kind: "taken" }> | undefined => {
  t.equal(attempt.kind, "taken", `taken (got ${JSON.stringify(attempt)})`);
  return attempt.kind === "taken" ? attempt : undefined;
};

// tryJobLock as uid/gid 65534 in a child (Node 24 runs the .ts source directly);
// `env -u NODE_OPTIONS`: tap's process tracking cannot write .tap/ as nobody.
const tryAsNobody = (stateDir: string): string => {
  const lockModule = new URL("../../src/jobs/lock.ts", import.meta.url).href;
  const addonModule = new URL("../../src/native/addon.ts", import.meta.url).href;
  const script = `const { tryJobLock } = await import(${JSON.stringify(lockModule)});
    const { loadNative } = await import(${JSON.stringify(addonModule)});
    const { native } = loadNative({ BOXINIT_ADDON: ${JSON.stringify(join(ROOT, "dist/boxinit.node"))} });
    const attempt = tryJobLock(${JSON.stringify(stateDir)}, "shared", { pid: process.pid, startTime: null, host: "nobody", runId: "nobody-run", startedAt: "x" }, native);
    console.log(attempt.kind === "unavailable" ? "unavailable: " + attempt.reason : attempt.kind);`;
  return spawnSync("env", ["-u", "NODE_OPTIONS", process.execPath, "--input-type=module", "-e", script], { uid: 65534, gid: 65534, encoding: "utf8" }).stdout.trim();
};

t.test("a lock file another uid created (read-only here) still locks: flock needs only read access", async (t) => {
  if (process.getuid?.() !== 0) return t.fail("acting as two users needs root: run as root (sudo make test-integration)");
  const stateDir = tempDir(t, "boxinit-lock-");
  chmodSync(stateDir, 0o755);
  const mine = taken(t, tryJobLock(stateDir, "shared", me(), native));
  t.equal(tryAsNobody(stateDir), "held", "root holds it: nobody sees it held");
  mine?.lock.release();
  t.equal(tryAsNobody(stateDir), "taken", "released: nobody takes it, through a read-only descriptor");
  t.equal(readFileSync(lockPath(stateDir, "shared"), "utf8"), "", "root's file was not rewritten by nobody");
});

// tryJobLock with the real addon (flock: a live holder in this or another
// process, a dead holder's content left behind) and without it (the pid and
// its start time decide), plus what a hostile state directory may hold at the
// lock's name: garbage, a symlink (not followed), a FIFO (no blocking).
import t, { type Test } from "tap";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadNative } from "../../src/native/addon.ts";
import { LOCK_DIR, isOwnerAlive, parseOwner, tryJobLock, type LockAttempt, type LockOwner } from "../../src/jobs/lock.ts";
import { processStartTime } from "../../src/pid1/proc-table.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { deadPid } from "../helpers/proc.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";

const { native, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });

const me = (overrides: Partial<LockOwner> = {}): LockOwner => ({
  pid: process.pid, startTime: processStartTime(process.pid), host: "testhost", runId: "run-1", startedAt: "2026-11-26T07:55:16.000Z", ...overrides,
});

const lockPath = (stateDir: string, name = "nightly"): string => join(stateDir, LOCK_DIR, `${name}.lock`);

const taken = (t: Test, attempt: LockAttempt): Extract<LockAttempt, { kind: "taken" }> | undefined => {
  t.equal(attempt.kind, "taken", `taken (got ${JSON.stringify(attempt)})`);
  return attempt.kind === "taken" ? attempt : undefined;
};

t.test("the addon loads", async (t) => {
  t.ok(native, failures.join("; "));
});

for (const variant of ["flock", "no addon"] as const) {
  const nativeOf = variant === "flock" ? native : undefined;

  t.test(`${variant}: taken, held while it is, released empty, taken again clean`, async (t) => {
    const stateDir = tempDir(t, "boxinit-lock-");
    const first = taken(t, tryJobLock(stateDir, "nightly", me(), nativeOf));
    t.notOk(first?.stale, "nothing stale in a fresh directory");
    t.same(parseOwner(readFileSync(lockPath(stateDir), "utf8")), me(), "the file names the holder");
    const second = tryJobLock(stateDir, "nightly", me({ runId: "run-2" }), nativeOf);
    t.same(second, { kind: "held", owner: me() }, "a second run sees the first as holder");
    const other = taken(t, tryJobLock(stateDir, "other-job", me({ runId: "run-3" }), nativeOf));
    t.notOk(other?.stale, "another job's lock is separate");
    first?.lock.release();
    other?.lock.release();
    t.equal(readFileSync(lockPath(stateDir), "utf8"), "", "release empties the file: no stale owner after a clean end");
    const third = taken(t, tryJobLock(stateDir, "nightly", me({ runId: "run-4" }), nativeOf));
    t.notOk(third?.stale, "a released lock is not reported as stale");
    third?.lock.release();
  });

  t.test(`${variant}: a lock naming a dead pid is taken over and reported stale`, async (t) => {
    const stateDir = tempDir(t, "boxinit-lock-");
    mkdirSync(join(stateDir, LOCK_DIR));
    const dead: LockOwner = { pid: deadPid(), startTime: "12345", host: "old-host", runId: "old-run", startedAt: "2026-01-01T00:00:00.000Z" };
    writeFileSync(lockPath(stateDir), `${JSON.stringify(dead)}\n`);
    const attempt = taken(t, tryJobLock(stateDir, "nightly", me(), nativeOf));
    t.same(attempt?.stale, dead, "the dead owner is reported");
    t.same(parseOwner(readFileSync(lockPath(stateDir), "utf8")), me(), "and replaced by the new owner");
    attempt?.lock.release();
  });

  t.test(`${variant}: content that is not an owner is taken over as "unreadable"`, async (t) => {
    for (const content of ["garbage\n", "{\"pid\": \"seven\"}", "[1,2]", "null"]) {
      const stateDir = tempDir(t, "boxinit-lock-");
      mkdirSync(join(stateDir, LOCK_DIR));
      writeFileSync(lockPath(stateDir), content);
      const attempt = taken(t, tryJobLock(stateDir, "nightly", me(), nativeOf));
      t.equal(attempt?.stale, "unreadable", JSON.stringify(content));
      attempt?.lock.release();
    }
  });

  t.test(`${variant}: a symlink planted at the lock's name is not followed`, async (t) => {
    const stateDir = tempDir(t, "boxinit-lock-");
    mkdirSync(join(stateDir, LOCK_DIR));
    const victim = join(stateDir, "victim");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, lockPath(stateDir));
    const attempt = tryJobLock(stateDir, "nightly", me(), nativeOf);
    t.same(attempt, { kind: "unavailable", reason: "ELOOP" });
    t.equal(readFileSync(victim, "utf8"), "precious\n", "the link's target is untouched");
    const dangling = join(stateDir, "created-through-link");
    symlinkSync(dangling, lockPath(stateDir, "other"));
    t.same(tryJobLock(stateDir, "other", me(), nativeOf), { kind: "unavailable", reason: "ELOOP" });
    t.notOk(existsSync(dangling), "a dangling link's target is not created");
  });

  t.test(`${variant}: a FIFO planted at the lock's name does not block and is not used`, async (t) => {
    const stateDir = tempDir(t, "boxinit-lock-");
    mkdirSync(join(stateDir, LOCK_DIR));
    t.equal(spawnSync("mkfifo", [lockPath(stateDir)]).status, 0, "mkfifo");
    t.same(tryJobLock(stateDir, "nightly", me(), nativeOf), { kind: "unavailable", reason: "EINVAL" });
  });

  t.test(`${variant}: a state directory that cannot hold jobs/ is unavailable, not a throw`, async (t) => {
    const stateDir = tempDir(t, "boxinit-lock-");
    writeFileSync(join(stateDir, LOCK_DIR), "a file where the directory should be");
    const attempt = tryJobLock(stateDir, "nightly", me(), nativeOf);
    t.equal(attempt.kind, "unavailable");
  });
}

t.test("no addon: the holder's pid and start time decide", async (t) => {
  const stateDir = tempDir(t, "boxinit-lock-");
  mkdirSync(join(stateDir, LOCK_DIR));
  // Our own pid with our own start time: alive.
  writeFileSync(lockPath(stateDir), JSON.stringify(me({ runId: "alive" })));
  t.same(tryJobLock(stateDir, "nightly", me(), undefined), { kind: "held", owner: me({ runId: "alive" }) });
  // Our pid with another start time: the pid was reused, the holder is gone.
  const reused = me({ runId: "reused", startTime: "1" });
  writeFileSync(lockPath(stateDir), JSON.stringify(reused));
  const attempt = taken(t, tryJobLock(stateDir, "nightly", me(), undefined));
  t.same(attempt?.stale, reused);
  attempt?.lock.release();
  t.equal(isOwnerAlive(me({ startTime: null })), false, "an owner without a start time is never taken for alive");
});

t.test("flock: a holder in another process holds it whatever its file says; once it dies, the lock is taken over", async (t) => {
  if (!native) return t.fail(`no addon: ${failures.join("; ")}`);
  const stateDir = tempDir(t, "boxinit-lock-");
  const lockModule = new URL("../../src/jobs/lock.ts", import.meta.url).href;
  const addonModule = new URL("../../src/native/addon.ts", import.meta.url).href;
  const procModule = new URL("../../src/pid1/proc-table.ts", import.meta.url).href;
  const script = `const { tryJobLock } = await import(${JSON.stringify(lockModule)});
    const { processStartTime } = await import(${JSON.stringify(procModule)});
    const { loadNative } = await import(${JSON.stringify(addonModule)});
    const { native } = loadNative({ BOXINIT_ADDON: ${JSON.stringify(join(ROOT, "dist/boxinit.node"))} });
    const owner = { pid: process.pid, startTime: processStartTime(process.pid), host: "child", runId: "child-run", startedAt: "x" };
    const attempt = tryJobLock(${JSON.stringify(stateDir)}, "nightly", owner, native);
    console.log(attempt.kind);
    setInterval(() => {}, 1000);`;
  // env -u NODE_OPTIONS: tap's loaders are not for this child.
  const child = spawn("env", ["-u", "NODE_OPTIONS", process.execPath, "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  t.teardown(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  await waitFor("the child to take the lock", () => out.includes("\n"), 10_000);
  t.equal(out.trim(), "taken", "the child holds the lock");
  const childPid = parseOwner(readFileSync(lockPath(stateDir), "utf8"))?.pid;
  t.ok(childPid !== undefined && childPid !== process.pid, "its pid is in the file");

  // Content that says "nobody" does not matter while the kernel's lock is held.
  const held = tryJobLock(stateDir, "nightly", me(), native);
  t.equal(held.kind, "held");
  t.equal(held.kind === "held" && held.owner?.runId, "child-run", "the log can name the holder");

  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  const attempt = taken(t, tryJobLock(stateDir, "nightly", me(), native));
  t.equal(typeof attempt?.stale === "object" && attempt.stale.runId, "child-run", "the killed holder's content is reported stale");
  attempt?.lock.release();
});

t.test("parseOwner, and processStartTime as the lock uses it", async (t) => {
  t.equal(parseOwner(""), undefined);
  t.equal(parseOwner("  \n"), undefined);
  t.same(parseOwner('{"pid": 7}'), { pid: 7, startTime: null, host: "?", runId: "?", startedAt: "?" });
  t.equal(parseOwner('{"pid": 7.5}'), undefined);
  t.match(processStartTime(process.pid), /^\d+$/);
  t.equal(processStartTime(deadPid()), null);
});

for (const variant of ["flock", "no addon"] as const) {
  const nativeOf = variant === "flock" ? native : undefined;
  t.test(`${variant}: a lock file with another name (a hard link planted at the lock's name) is locked but never rewritten`, async (t) => {
    const stateDir = tempDir(t, "boxinit-lock-");
    const outside = tempDir(t, "boxinit-outside-");
    mkdirSync(join(stateDir, LOCK_DIR));
    const victim = join(outside, "victim");
    writeFileSync(victim, "precious content elsewhere\n");
    linkSync(victim, lockPath(stateDir));
    const attempt = taken(t, tryJobLock(stateDir, "nightly", me(), nativeOf));
    t.equal(readFileSync(victim, "utf8"), "precious content elsewhere\n", "not truncated nor overwritten when taken");
    attempt?.lock.release();
    t.equal(readFileSync(victim, "utf8"), "precious content elsewhere\n", "nor when released");
  });
}

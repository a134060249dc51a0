// What `boxinit job` leaves in the state directory, on the built binary as
// PID 1 and as subreaper (issue 13): the documented modes whatever the umask
// (bug 5: under umask 077 logs/, jobs/ were 0700 and the locks 0600, so a run
// under another uid could not take them); a read-only state directory said as
// EROFS with a hint (it was ENOENT); temp files of report writers that were
// killed swept, unless a live writer still holds them; and without the addon,
// the one warning that the symlink guarantee does not hold.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, lutimesSync, mkdirSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BOXINIT, MODES, killAllRuns, missingPrerequisite, runBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, "0");

/** Whether uid/gid 65534 can open `file` read-only and take its flock at once (what a `--user` job run needs). */
const nobodyCanLock = (file: string): { ok: boolean; why: string } => {
  const result = spawnSync("flock", ["--nonblock", "--conflict-exit-code", "99", file, "true"], { uid: 65534, gid: 65534, encoding: "utf8", timeout: 10_000 });
  return { ok: result.status === 0, why: `exit ${result.status}: ${result.stderr.trim()}` };
};

/**
 * Run `boxinit job` with its state directory on a tmpfs that `prepare` (a
 * shell snippet, $S is the directory) fills, then remounted read-only; in a
 * private mount namespace, and for PID 1 also a PID namespace.
 */
const runOnReadOnly = (mode: Mode, stateDir: string, prepare: string, jobArgs: readonly string[]) => {
  const namespaces = mode === "pid1" ? ["--pid", "--fork", "--mount-proc"] : [];
  const script = `S="$1"; shift; mount -t tmpfs -o size=256k,mode=0755 boxinit-ro "$S" && ${prepare || ":"} && mount -o remount,ro "$S" && exec "$@"`;
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("unshare", ["--mount", "--propagation", "private", ...namespaces, "sh", "-c", script, "sh", stateDir, BOXINIT, ...jobArgs], {
      env: { ...process.env, NODE_OPTIONS: undefined }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
};

for (const mode of MODES) {
  t.test(`${mode}: prerequisites`, async (t) => {
    const missing = missingPrerequisite(mode);
    t.notOk(missing, missing ?? "present");
    t.equal(process.getuid?.(), 0, "mount namespaces and a second uid need root: run the tests as root");
  });

  t.test(`${mode}: umask 077: the state directory, logs/, jobs/ and every file come out with their documented modes, and another uid can take the locks`, async (t) => {
    const box = makeBox(t, "", "boxinit-umask-");
    chmodSync(box.dir, 0o755);
    const stateDir = join(box.dir, "fresh", "state");
    const previous = process.umask(0o077);
    let result;
    try {
      result = await runBoxinit(mode, ["job", "nightly", ...box.args, "--state-dir", stateDir, "--", "/bin/sh", "-c", "echo failing; exit 3"]);
    } finally {
      process.umask(previous);
    }
    t.equal(result.code, 3, result.stderr);
    const reports = readdirSync(join(stateDir, "logs"));
    t.equal(reports.length, 1, `one report (${reports.join(", ")})`);
    t.same({
      "fresh/": modeOf(join(box.dir, "fresh")),
      "state/": modeOf(stateDir),
      "logs/": modeOf(join(stateDir, "logs")),
      "jobs/": modeOf(join(stateDir, "jobs")),
      ".status.lock": modeOf(join(stateDir, ".status.lock")),
      "jobs/nightly.lock": modeOf(join(stateDir, "jobs", "nightly.lock")),
      "status.json": modeOf(join(stateDir, "status.json")),
      report: modeOf(join(stateDir, "logs", reports[0] ?? "missing")),
    }, {
      "fresh/": "0755", "state/": "0755", "logs/": "0755", "jobs/": "0755",
      ".status.lock": "0644", "jobs/nightly.lock": "0644", "status.json": "0644", report: "0644",
    }, "modes created are the documented ones, whatever the umask");
    for (const lock of [join(stateDir, ".status.lock"), join(stateDir, "jobs", "nightly.lock")]) {
      const attempt = nobodyCanLock(lock);
      t.ok(attempt.ok, `uid 65534 opens and locks ${lock.slice(stateDir.length + 1)} (${attempt.why})`);
    }
  });

  t.test(`${mode}: a read-only state directory: EROFS with a hint for the lock and the report, the job's code stands`, async (t) => {
    const box = makeBox(t, "", "boxinit-ro-");
    const cases = [
      { what: "empty", prepare: "" },
      { what: "with logs/ and jobs/", prepare: 'mkdir "$S/logs" "$S/jobs"' },
    ];
    for (const { what, prepare } of cases) {
      const result = await runOnReadOnly(mode, box.stateDir, prepare, ["job", "nightly", ...box.args, "--", "/bin/sh", "-c", "echo ran; exit 3"]);
      t.equal(result.code, 3, `${what}: the job ran and its code stands\n${result.stderr}`);
      t.match(result.stdout, /^ran$/m, `${what}: the job ran`);
      t.match(result.stderr, /cannot lock the job \(EROFS\).*hint=.*read-only file system: mount it read-write/, `${what}: the lock says EROFS and what to do`);
      t.match(result.stderr, /the report could not be saved: EROFS.*hint=.*read-only file system: mount it read-write/, `${what}: the report says EROFS and what to do`);
      t.notMatch(result.stderr, /ENOENT/, `${what}: no ENOENT anywhere`);
    }
    // A lock file that is already there is locked read-only (flock needs no write access): overlap protection holds.
    const withLock = await runOnReadOnly(mode, box.stateDir, 'mkdir "$S/logs" "$S/jobs" && : > "$S/jobs/nightly.lock"', ["job", "nightly", ...box.args, "--", "/bin/sh", "-c", "exit 0"]);
    t.equal(withLock.code, 0, withLock.stderr);
    t.notMatch(withLock.stderr, /cannot lock the job/, "an existing lock file is locked even read-only");
  });

  t.test(`${mode}: temp files of killed report writers are swept; a live writer's, a young one and anything not ours stay`, async (t) => {
    const box = makeBox(t, "", "boxinit-sweep-");
    const logs = join(box.stateDir, "logs");
    mkdirSync(logs);
    const oldSeconds = Date.now() / 1000 - 10 * 60;
    const stale = ".report.4242.stale001.tmp";
    const held = ".report.4243.held0001.tmp";
    const young = ".report.4244.young001.tmp";
    const link = ".report.4245.link0001.tmp";
    const foreign = [".reportish.tmp", "notes.tmp", ".report.4246.notatemp"];
    for (const name of [stale, held, young, ...foreign]) writeFileSync(join(logs, name), "partial report\n");
    for (const name of [stale, held, ...foreign]) utimesSync(join(logs, name), oldSeconds, oldSeconds);
    // Young by construction, however slow the machine: stamped an hour ahead.
    utimesSync(join(logs, young), oldSeconds + 70 * 60, oldSeconds + 70 * 60);
    const target = join(box.dir, "target");
    writeFileSync(target, "not boxinit's\n");
    symlinkSync(target, join(logs, link));
    lutimesSync(join(logs, link), oldSeconds, oldSeconds);
    // A writer still at work: it holds flock on its temp file (as startReport does).
    // A group of its own, so teardown ends flock and its sleep (which holds the pipe) together.
    const holder = spawn("flock", [join(logs, held), "-c", "echo held; exec sleep 600"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
    t.teardown(() => {
      try {
        process.kill(-holder.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("held") && resolve());
      holder.once("close", (code) => reject(new Error(`flock ended before holding the lock (exit ${code})`)));
    });
    const result = await runBoxinit(mode, ["job", "tidy", ...box.args, "--", "/bin/sh", "-c", "exit 0"]);
    t.equal(result.code, 0, result.stderr);
    t.notOk(existsSync(join(logs, stale)), "the killed writer's temp file is gone");
    t.same(readdirSync(logs).sort(), [held, young, link, ...foreign].sort(), "the held, the young, the link and foreign names stay");
    t.ok(existsSync(target), "the link's target is untouched");
    t.match(result.stderr, /removed temp files of report writers that were killed .*count=1/);
  });

  t.test(`${mode}: without the addon the job still runs and reports, and boxinit says once that logs/ and jobs/ are used by path`, async (t) => {
    const box = makeBox(t, "", "boxinit-noaddon-");
    const result = await runBoxinit(mode, ["job", "nightly", ...box.args, "--", "/bin/sh", "-c", "exit 3"], { env: { BOXINIT_ADDON: "/nonexistent/boxinit.node" } });
    t.equal(result.code, 3, result.stderr);
    t.equal(result.stderr.match(/no addon: logs\/ and jobs\/ are used by path/g)?.length, 1, "said once");
    t.match(result.stderr, /report saved/);
    t.equal(readdirSync(join(box.stateDir, "logs")).length, 1);
  });
}

import t from "tap";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pruneReports, reportsToRemove, type LogEntry } from "../../src/jobs/retention.ts";
import { reportFileName } from "../../src/jobs/report-name.ts";
import { existingOwnDir } from "../../src/jobs/own-dir.ts";
import { openStateDir, type DirHandle } from "../../src/control/dir-handle.ts";
import { loadNative } from "../../src/native/addon.ts";
import { ROOT } from "../helpers/boxinit.ts";

const { native: addon } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });

// By descriptor (the addon's *at calls) and by path (without it): the same outcomes.
const VARIANTS = [["by descriptor", addon], ["by path", undefined]] as const;

const NOW = Date.parse("2026-11-26T10:00:00Z");
const DAY_MS = 86_400_000;

// A report of `job` stamped `daysAgo` before NOW.
const report = (daysAgo: number, job = "reindex", exitCode = 3): string =>
  reportFileName(new Date(NOW - daysAgo * DAY_MS), job, exitCode, "web01");

const entries = (...names: string[]): LogEntry[] => names.map((name) => ({ name, mtimeMs: NOW }));

// pruneReports run as uid/gid 65534 in a child (Node 24 runs the .ts source directly).
// `env -u`: tap adds its process tracking to NODE_OPTIONS of every spawn, and
// that cannot write .tap/ as nobody.
const pruneAsNobody = (logsDir: string, policy: { keep: number; maxAgeMs: number }): unknown => {
  const module = new URL("../../src/jobs/retention.ts", import.meta.url).href;
  const dirModule = new URL("../../src/control/dir-handle.ts", import.meta.url).href;
  const script = `const { pruneReports } = await import(${JSON.stringify(module)});
    const { openStateDir } = await import(${JSON.stringify(dirModule)});
    console.log(JSON.stringify(pruneReports(openStateDir(${JSON.stringify(logsDir)}, undefined), { keep: ${policy.keep}, maxAgeMs: ${policy.maxAgeMs} }, ${NOW})));`;
  const out = execFileSync("env", ["-u", "NODE_OPTIONS", process.execPath, "--input-type=module", "-e", script], { uid: 65534, gid: 65534, encoding: "utf8" });
  return JSON.parse(out);
};

const tempDir = (t: { teardown(fn: () => void): void }): string => {
  const dir = mkdtempSync(join(tmpdir(), "boxinit-jobs-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

t.test("count only: the oldest go until keep remain", async (t) => {
  const names = [report(1), report(5), report(3), report(2), report(4)];
  t.same(reportsToRemove(entries(...names), { keep: 3, maxAgeMs: Infinity }, NOW), [report(5), report(4)]);
  t.same(reportsToRemove(entries(...names), { keep: 5, maxAgeMs: Infinity }, NOW), []);
  t.same(reportsToRemove(entries(...names), { keep: 10, maxAgeMs: Infinity }, NOW), []);
  t.same(reportsToRemove(entries(), { keep: 1, maxAgeMs: 0 }, NOW), [], "nothing to do");
});

t.test("age only: older than maxAgeMs by the time in the name", async (t) => {
  const names = [report(1), report(8), report(7), report(30)];
  t.same(reportsToRemove(entries(...names), { keep: Infinity, maxAgeMs: 7 * DAY_MS }, NOW), [report(30), report(8)], "exactly 7 days is not older");
  const fresh = entries(report(8)).map((entry) => ({ ...entry, mtimeMs: NOW }));
  t.same(reportsToRemove(fresh, { keep: Infinity, maxAgeMs: 7 * DAY_MS }, NOW), [report(8)], "a fresh mtime does not save an old report");
  t.same(reportsToRemove(entries(report(-2)), { keep: Infinity, maxAgeMs: DAY_MS }, NOW), [], "stamped in the future: young");
});

t.test("both: age first, then count", async (t) => {
  const names = [report(0), report(1), report(2), report(10), report(20)];
  t.same(reportsToRemove(entries(...names), { keep: 2, maxAgeMs: 7 * DAY_MS }, NOW), [report(20), report(10), report(2)]);
  t.same(reportsToRemove(entries(...names), { keep: 4, maxAgeMs: 7 * DAY_MS }, NOW), [report(20), report(10)]);
  t.same(reportsToRemove(entries(...names), { keep: 1, maxAgeMs: 15 * DAY_MS }, NOW), [report(20), report(10), report(2), report(1)]);
});

t.test("files that are not reports are never listed", async (t) => {
  const foreign = [
    "notes.txt",
    ".2026-11-01T00:00:00Z-cron-failure-x-exit-3-h.1.abcdefgh.tmp",
    "2026-11-01T00:00:00Z-cron-failure-x-exit-999-h",
    "2026-11-01T00:00:00.000Z-cron-failure-x-exit-3-h",
    "2026-02-30T00:00:00Z-cron-failure-x-exit-3-h",
    "2026-11-01T00:00:00Z-cron-failure-x-exit-3-h.gz/",
    "old-report.log",
  ];
  t.same(reportsToRemove(entries(...foreign, report(100)), { keep: 1, maxAgeMs: 0 }, NOW), [report(100)]);
  t.same(reportsToRemove(entries(...foreign), { keep: 1, maxAgeMs: 0 }, NOW), []);
});

t.test("ties: same second, ordered by name", async (t) => {
  const a = report(3, "a-job");
  const b = report(3, "b-job");
  const c = report(3, "c-job");
  t.same(reportsToRemove(entries(c, a, b), { keep: 1, maxAgeMs: Infinity }, NOW), [a, b]);
  t.same(reportsToRemove(entries(b, c, a, report(4)), { keep: 2, maxAgeMs: Infinity }, NOW), [report(4), a]);
});

t.test("the policy: keep below 1 counts as 1, NaN never widens removal", async (t) => {
  const names = entries(report(1), report(2), report(3));
  t.same(reportsToRemove(names, { keep: 0, maxAgeMs: Infinity }, NOW), [report(3), report(2)], "the newest stays");
  t.same(reportsToRemove(names, { keep: 1.5, maxAgeMs: Infinity }, NOW), [report(3), report(2)]);
  t.same(reportsToRemove(names, { keep: Number.NaN, maxAgeMs: Number.NaN }, NOW), []);
  t.same(reportsToRemove(names, { keep: Infinity, maxAgeMs: Infinity }, NOW), []);
});

/** The state directory's logs/, open as the harness opens it (undefined when missing); closed in teardown. */
const openLogs = (t: { teardown(fn: () => void): void }, stateDir: string, native: typeof addon): DirHandle | undefined => {
  const root = openStateDir(stateDir, native);
  try {
    const logs = existingOwnDir(root, "logs");
    if (logs) t.teardown(() => logs.close());
    return logs;
  } finally {
    root.close();
  }
};

for (const [variant, native] of VARIANTS) {
  t.test(`${variant}: pruning a directory: only our regular files go`, async (t) => {
    const dir = tempDir(t);
    const elsewhere = tempDir(t);
    const logs = join(dir, "logs");
    mkdirSync(logs);
    for (const days of [1, 2, 3, 40]) writeFileSync(join(logs, report(days)), `report ${days}\n`);
    writeFileSync(join(logs, "notes.txt"), "mine\n");
    writeFileSync(join(logs, ".2026-11-01T00:00:00Z-cron-failure-x-exit-3-h.1.abcdefgh.tmp"), "a writer's temp file\n");
    // A link named like an old report, pointing at a file that must survive.
    const target = join(elsewhere, "precious");
    writeFileSync(target, "keep me\n");
    const link = reportFileName(new Date(NOW - 50 * DAY_MS), "linked", 1, "web01");
    symlinkSync(target, join(logs, link));
    const subdir = reportFileName(new Date(NOW - 60 * DAY_MS), "dir", 1, "web01");
    mkdirSync(join(logs, subdir));
    writeFileSync(join(logs, subdir, "inside"), "x\n");

    const handle = openLogs(t, dir, native)!;
    const result = pruneReports(handle, { keep: 2, maxAgeMs: 30 * DAY_MS }, NOW);
    t.same(result, { removed: [report(40), report(3)], errors: [] });
    t.same(readdirSync(logs).sort(), [report(2), report(1), "notes.txt", ".2026-11-01T00:00:00Z-cron-failure-x-exit-3-h.1.abcdefgh.tmp", link, subdir].sort());
    t.equal(readFileSync(target, "utf8"), "keep me\n", "the link's target is untouched");
    t.ok(existsSync(join(logs, subdir, "inside")), "the directory and its content are untouched");

    t.same(pruneReports(handle, { keep: 2, maxAgeMs: 30 * DAY_MS }, NOW), { removed: [], errors: [] }, "a second run finds nothing");
  });

  t.test(`${variant}: no logs directory yet: nothing to open, nothing created`, async (t) => {
    const dir = tempDir(t);
    t.equal(openLogs(t, dir, native), undefined);
    t.same(readdirSync(dir), []);
  });

  t.test(`${variant}: a file at logs/ is refused (ENOTDIR)`, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "logs"), "a file where logs/ should be\n");
    t.throws(() => openLogs(t, dir, native), { code: "ENOTDIR" });
  });

  t.test(`${variant}: a logs/ that is a symlink is refused (ELOOP): nothing is removed where it points`, async (t) => {
    const stateDir = tempDir(t);
    const elsewhere = tempDir(t);
    const old = report(400);
    writeFileSync(join(elsewhere, old), "someone else's file with a report's name\n");
    symlinkSync(elsewhere, join(stateDir, "logs"));
    t.throws(() => openLogs(t, stateDir, native), { code: "ELOOP" });
    t.same(readdirSync(elsewhere), [old]);
  });

  t.test(`${variant}: the default now is the clock`, async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, "logs"));
    const old = reportFileName(new Date(Date.now() - 10 * DAY_MS), "j", 1, "h");
    const fresh = reportFileName(new Date(), "j", 1, "h");
    writeFileSync(join(dir, "logs", old), "");
    writeFileSync(join(dir, "logs", fresh), "");
    t.same(pruneReports(openLogs(t, dir, native)!, { keep: 10, maxAgeMs: DAY_MS }), { removed: [old], errors: [] });
  });
}

t.test("file-system errors are collected, never thrown", async (t) => {
  const dir = tempDir(t);
  // A directory the pruner may list but not change: its unlink fails EACCES.
  // Root ignores modes, so then the pruner runs in a child as nobody.
  const logs = join(dir, "locked");
  mkdirSync(logs);
  writeFileSync(join(logs, report(10)), "old\n");
  writeFileSync(join(logs, report(1)), "new\n");
  chmodSync(dir, 0o755);
  chmodSync(logs, 0o555);
  t.teardown(() => chmodSync(logs, 0o755));
  const policy = { keep: 1, maxAgeMs: Infinity };
  const result = process.getuid?.() === 0 ? pruneAsNobody(logs, policy) : pruneReports(openStateDir(logs, undefined), policy, NOW);
  t.same(result, { removed: [], errors: [`${report(10)}: EACCES`] });
  t.ok(existsSync(join(logs, report(10))));
});

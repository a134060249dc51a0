// The failure report: its header, exactly; and writeReport, which creates the
// file complete, readable by host tools, inside logs/, and never replaces an
// existing report (a second failure in the same second takes the next second);
// the sweep of temp files that writers killed mid-report left behind.
import t from "tap";
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { finishReport, reportHeader, startReport, sweepReportTemps, writeReport, type RunSummary } from "../../src/jobs/report.ts";
import { openStateDir } from "../../src/control/dir-handle.ts";
import { loadNative } from "../../src/native/addon.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const { native: addon, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });

// By descriptor (the addon's *at calls) and by path (without it): the same outcomes.
const VARIANTS = [["by descriptor", addon], ["by path", undefined]] as const;

t.test("the addon loads", async (t) => {
  t.ok(addon, failures.join("; "));
});

const run = (overrides: Partial<RunSummary> = {}): RunSummary => ({
  name: "reindex",
  runId: "mwxk-abc123",
  command: ["/opt/reindex", "--all", "it's \"quoted\""],
  hostname: "web01",
  startedAt: new Date("2026-11-26T07:55:16.250Z"),
  endedAt: new Date("2026-11-26T07:55:18.750Z"),
  durationMs: 2500.4,
  exitCode: 3,
  outcome: "exit 3",
  totalBytes: 12,
  cutBytes: 0,
  ...overrides,
});

t.test("the header, exactly", async (t) => {
  t.equal(reportHeader(run()), [
    "# boxinit job failure report",
    "job: reindex",
    "run: mwxk-abc123",
    'command: ["/opt/reindex","--all","it\'s \\"quoted\\""]',
    "host: web01",
    "started: 2026-11-26T07:55:16.250Z",
    "ended: 2026-11-26T07:55:18.750Z",
    "duration: 2.5s",
    "result: exit 3",
    "output: 12 bytes",
    "--- output (stdout and stderr as they arrived) ---",
    "",
  ].join("\n"));
});

t.test("the header says what was cut and why there is no output", async (t) => {
  const cut = reportHeader(run({ totalBytes: 5_000_000, cutBytes: 3_951_424, durationMs: 340, outcome: "killed by SIGKILL (exit 137)", exitCode: 137 }));
  t.match(cut, /\nduration: 340ms\n/);
  t.match(cut, /\nresult: killed by SIGKILL \(exit 137\)\n/);
  t.match(cut, /\noutput: 5000000 bytes, 3951424 cut from the middle\n/);
  const uncaptured = reportHeader(run({ totalBytes: 0, captureNote: "not captured: the addon boxinit.node is not loaded" }));
  t.match(uncaptured, /\noutput: 0 bytes \(not captured: the addon boxinit\.node is not loaded\)\n/);
});

t.test("a command or name with a newline cannot forge header lines", async (t) => {
  const header = reportHeader(run({ command: ["sh", "-c", "echo x\nresult: exit 0"] }));
  t.equal(header.split("\n").filter((line) => line.startsWith("result: ")).length, 1, "one result line");
});

for (const [variant, native] of VARIANTS) {
  t.test(`${variant}: writeReport: header then output, the seed's name, 0644 whatever the umask, no temp file left`, async (t) => {
    const stateDir = tempDir(t, "boxinit-report-");
    const previous = process.umask(0o077);
    t.teardown(() => process.umask(previous));
    const output = Buffer.from([0x6f, 0x6b, 0x0a, 0xff, 0xfe, 0x00, 0x0a]);
    const file = writeReport(stateDir, native, run({ totalBytes: output.length }), output);
    t.equal(file, "logs/2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01");
    const bytes = readFileSync(join(stateDir, file));
    t.same(bytes, Buffer.concat([Buffer.from(reportHeader(run({ totalBytes: output.length }))), output]), "bytes as the job wrote them, not decoded");
    t.equal(statSync(join(stateDir, file)).mode & 0o777, 0o644);
    t.equal(statSync(join(stateDir, "logs")).mode & 0o777, 0o755, "logs/ is created 0755 whatever the umask");
    t.same(readdirSync(join(stateDir, "logs")), ["2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01"]);
  });

  t.test(`${variant}: never replaces an existing report: the same second takes the next free second`, async (t) => {
    const stateDir = tempDir(t, "boxinit-report-");
    const first = writeReport(stateDir, native, run(), Buffer.from("first\n"));
    const second = writeReport(stateDir, native, run({ startedAt: new Date("2026-11-26T07:55:16.900Z") }), Buffer.from("second\n"));
    const third = writeReport(stateDir, native, run(), Buffer.from("third\n"));
    t.same([first, second, third], [
      "logs/2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01",
      "logs/2026-11-26T07:55:17Z-cron-failure-reindex-exit-3-web01",
      "logs/2026-11-26T07:55:18Z-cron-failure-reindex-exit-3-web01",
    ]);
    t.match(readFileSync(join(stateDir, first), "utf8"), /\nfirst\n$/, "the first report is still the first run's");
    t.match(readFileSync(join(stateDir, second), "utf8"), /\nsecond\n$/);
    t.match(readFileSync(join(stateDir, third), "utf8"), /\nthird\n$/);
    const otherCode = writeReport(stateDir, native, run({ exitCode: 4 }), Buffer.from("four\n"));
    t.equal(otherCode, "logs/2026-11-26T07:55:16Z-cron-failure-reindex-exit-4-web01", "another exit code is another name: no shift needed");
  });

  t.test(`${variant}: a symlink planted at the report's name is neither followed nor replaced`, async (t) => {
    const stateDir = tempDir(t, "boxinit-report-");
    const outside = tempDir(t, "boxinit-outside-");
    mkdirSync(join(stateDir, "logs"));
    const victim = join(outside, "victim");
    writeFileSync(victim, "precious\n");
    const planted = join(stateDir, "logs/2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01");
    symlinkSync(victim, planted);
    const file = writeReport(stateDir, native, run(), Buffer.from("out\n"));
    t.equal(file, "logs/2026-11-26T07:55:17Z-cron-failure-reindex-exit-3-web01");
    t.equal(readFileSync(victim, "utf8"), "precious\n", "the target is untouched");
    t.ok(lstatSync(planted).isSymbolicLink(), "the link is left as it was");
    t.equal(readlinkSync(planted), victim);
  });

  t.test(`${variant}: hostile names stay one plain file inside logs/`, async (t) => {
    const stateDir = tempDir(t, "boxinit-report-");
    const file = writeReport(stateDir, native, run({ name: "../../etc/cron.d/x", hostname: "a/../b\n" }), Buffer.from("x\n"));
    t.equal(file, "logs/2026-11-26T07:55:16Z-cron-failure-_.._etc_cron.d_x-exit-3-a_.._b_");
    t.same(readdirSync(stateDir).sort(), ["logs"], "nothing written beside logs/");
    t.same(readdirSync(join(stateDir, "logs")), [file.slice("logs/".length)]);
    t.match(readFileSync(join(stateDir, file), "utf8"), /^job: \.\.\/\.\.\/etc\/cron\.d\/x$/m, "the header keeps the real name");
  });

  t.test(`${variant}: 60 reports in the same second: the 61st is refused, nothing replaced`, async (t) => {
    const stateDir = tempDir(t, "boxinit-report-");
    for (let i = 0; i < 60; i++) writeReport(stateDir, native, run(), Buffer.from(`${i}\n`));
    t.throws(() => writeReport(stateDir, native, run(), Buffer.from("61\n")), { code: "EEXIST" });
    t.equal(readdirSync(join(stateDir, "logs")).length, 60, "60 reports and no temp file");
    t.match(readFileSync(join(stateDir, "logs/2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01"), "utf8"), /\n0\n$/);
  });

  t.test(`${variant}: a file at logs/ is refused (ENOTDIR): the system error, which the harness logs`, async (t) => {
    const stateDir = tempDir(t, "boxinit-report-");
    writeFileSync(join(stateDir, "logs"), "not a directory");
    t.throws(() => writeReport(stateDir, native, run(), Buffer.from("x\n")), { code: "ENOTDIR" });
  });

  t.test(`${variant}: logs/ planted as a symlink is refused (ELOOP): nothing is written where it points`, async (t) => {
    const stateDir = tempDir(t, "boxinit-report-");
    const elsewhere = tempDir(t, "boxinit-elsewhere-");
    symlinkSync(elsewhere, join(stateDir, "logs"));
    t.throws(() => writeReport(stateDir, native, run(), Buffer.from("x\n")), { code: "ELOOP" });
    t.same(readdirSync(elsewhere), []);
  });
}

t.test("sweepReportTemps, by descriptor: an old temp file whose flock is free goes; one a live writer holds, a young one and other names stay", async (t) => {
  const stateDir = tempDir(t, "boxinit-report-");
  const logs = join(stateDir, "logs");
  mkdirSync(logs);
  const now = Date.now();
  const old = (name: string): string => {
    writeFileSync(join(logs, name), "partial\n");
    utimesSync(join(logs, name), (now - 120_000) / 1000, (now - 120_000) / 1000);
    return name;
  };
  const dead = old(".report.1.dead0001.tmp");
  const live = old(".report.2.live0001.tmp");
  const other = old(".status.json.3.abcdefgh.tmp");
  writeFileSync(join(logs, ".report.4.young001.tmp"), "partial\n");
  // The live writer: another open file description holding flock, as startReport's does.
  const holder = openSync(join(logs, live), "r");
  t.teardown(() => closeSync(holder));
  t.ok(addon!.tryLock(holder), "the stand-in writer holds its temp file");
  const dir = openStateDir(logs, addon);
  t.teardown(() => dir.close());
  t.equal(sweepReportTemps(dir, addon, now), 1);
  t.same(readdirSync(logs).sort(), [".report.2.live0001.tmp", ".report.4.young001.tmp", other].sort(), `${dead} is gone`);
});

t.test("sweepReportTemps, by path: without flock only age tells, so a temp file stays for an hour", async (t) => {
  const stateDir = tempDir(t, "boxinit-report-");
  const now = Date.now();
  const aged = (name: string, ageMs: number): string => {
    writeFileSync(join(stateDir, name), "partial\n");
    utimesSync(join(stateDir, name), (now - ageMs) / 1000, (now - ageMs) / 1000);
    return name;
  };
  aged(".report.1.old00001.tmp", 2 * 3_600_000);
  const minutes = aged(".report.2.min00001.tmp", 10 * 60_000);
  t.equal(sweepReportTemps(openStateDir(stateDir, undefined), undefined, now), 1);
  t.same(readdirSync(stateDir), [minutes]);
});

t.test("by descriptor: a writer holds flock on its temp file until it is finished", async (t) => {
  const stateDir = tempDir(t, "boxinit-report-");
  const draft = startReport(stateDir, addon);
  const probe = openSync(join(stateDir, "logs", draft.temp), "r");
  try {
    t.equal(addon!.tryLock(probe), false, "held while written");
  } finally {
    closeSync(probe);
  }
  const file = finishReport(draft, new Date("2026-11-26T07:55:16Z"), (at) => `${at.toISOString().slice(0, 19)}Z-cron-failure-x-exit-1-h`);
  t.equal(file, "logs/2026-11-26T07:55:16Z-cron-failure-x-exit-1-h");
  t.same(readdirSync(join(stateDir, "logs")), ["2026-11-26T07:55:16Z-cron-failure-x-exit-1-h"], "no temp file left");
});

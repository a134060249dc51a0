// updateJobRecord: one job's entry in status.json replaced under the status
// lock, everything else (PID 1's fields, updatedAt, other jobs) left exactly
// as it was; a broken file replaced; and no lost update when two job writers
// and PID 1's StatusFile write at the same time from separate processes.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { loadNative } from "../../src/native/addon.ts";
import { EMPTY_RECORD, recordOf, updateJobRecord, type JobRecord } from "../../src/jobs/job-status.ts";
import { StatusFile } from "../../src/control/status-file.ts";
import { processStartTime } from "../../src/pid1/proc-table.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { bigDocument } from "../helpers/status-documents.ts";

const DAY_MS = 86_400_000;

const ADDON = join(ROOT, "dist/boxinit.node");
const { native, failures } = loadNative({ BOXINIT_ADDON: ADDON });

const readJson = (dir: string): Record<string, any> => JSON.parse(readFileSync(join(dir, "status.json"), "utf8"));

/** What PID 1 had written: every key a job writer must leave alone. */
const PID1_DOCUMENT = {
  schemaVersion: 1,
  state: "running",
  since: "2026-11-26T10:00:00.000Z",
  updatedAt: "2026-11-26T10:00:30.000Z",
  pid: 1,
  version: "0.1.0",
  backoff: false,
  heartbeatMs: 30_000,
  services: { web: { state: "running", pid: 42, restarts: 1, lastExit: null, readyAt: "2026-11-26T10:00:01.000Z" } },
  jobs: { other: { runs: 7, lastExit: 3, custom: "kept" } },
  futureKey: { nested: [1, 2, 3] },
};

const finished = (previous: JobRecord): JobRecord => ({ ...previous, runs: previous.runs + 1, lastExit: 0, lastResult: "ok" });

t.test("the addon loads", async (t) => {
  t.ok(native, failures.join("; "));
});

for (const variant of ["locked", "no addon"] as const) {
  const nativeOf = variant === "locked" ? native : undefined;

  t.test(`${variant}: every other key stays exactly as it was, updatedAt included`, async (t) => {
    const dir = tempDir(t, "boxinit-jobstatus-");
    writeFileSync(join(dir, "status.json"), JSON.stringify(PID1_DOCUMENT, null, 2));
    const { log, lines } = recordingLogger();
    t.equal(updateJobRecord(dir, "nightly", nativeOf, log, finished), true);
    const document = readJson(dir);
    const { jobs, ...rest } = document;
    const { jobs: pid1Jobs, ...pid1Rest } = PID1_DOCUMENT;
    t.strictSame(rest, pid1Rest, "PID 1's keys untouched: a job run never makes a dead PID 1 look alive");
    t.strictSame(jobs.other, pid1Jobs.other, "another job's entry untouched, unknown fields kept");
    t.strictSame(jobs.nightly, { ...EMPTY_RECORD, runs: 1, lastExit: 0, lastResult: "ok" });
    t.equal(updateJobRecord(dir, "nightly", nativeOf, log, finished), true);
    t.equal(readJson(dir).jobs.nightly.runs, 2, "the previous entry is what change() receives");
    t.equal(readJson(dir).updatedAt, PID1_DOCUMENT.updatedAt);
    t.same(lines.filter((line) => !line.includes("without its lock")), [], "nothing logged");
  });

  t.test(`${variant}: a missing status.json is created with schemaVersion and the job`, async (t) => {
    const dir = tempDir(t, "boxinit-jobstatus-");
    updateJobRecord(dir, "nightly", nativeOf, recordingLogger().log, finished);
    t.strictSame(readJson(dir), { schemaVersion: 1, jobs: { nightly: { ...EMPTY_RECORD, runs: 1, lastExit: 0, lastResult: "ok" } } });
  });

  t.test(`${variant}: invalid JSON or a non-object is kept aside as status.json.bad-TIME, with a warning, and a new one written`, async (t) => {
    for (const content of ["{torn", "[1, 2]", "null", "\"text\"", '{"jobs": 7}']) {
      const dir = tempDir(t, "boxinit-jobstatus-");
      writeFileSync(join(dir, "status.json"), content);
      const { log, at } = recordingLogger();
      t.equal(updateJobRecord(dir, "nightly", nativeOf, log, finished), true, JSON.stringify(content));
      t.strictSame(readJson(dir), { schemaVersion: 1, jobs: { nightly: { ...EMPTY_RECORD, runs: 1, lastExit: 0, lastResult: "ok" } } });
      t.match(at("warn"), [/status\.json cannot be used: .*; kept as status\.json\.bad-\S+, a new one written/]);
      const keptAside = readdirSync(dir).filter((name) => name.startsWith("status.json.bad-"));
      t.equal(keptAside.length, 1);
      t.equal(readFileSync(join(dir, keptAside[0]!), "utf8"), content, "kept byte for byte");
    }
  });

  t.test(`${variant}: a valid status.json over the old 1 MiB cap keeps every record`, async (t) => {
    const dir = tempDir(t, "boxinit-jobstatus-");
    const document = { ...PID1_DOCUMENT, jobs: bigDocument(2200).jobs as Record<string, unknown> };
    writeFileSync(join(dir, "status.json"), JSON.stringify(document, null, 2));
    const { log, at } = recordingLogger();
    // Retention as configured by default (30 days): the fixture's records are recent enough.
    t.equal(updateJobRecord(dir, "nightly", nativeOf, log, finished, { keepRecordsForMs: 30 * DAY_MS, nowMs: Date.parse("2026-11-27T00:00:00Z") }), true);
    const written = readJson(dir);
    t.equal(Object.keys(written.jobs).length, 2201, "2200 records and the new one");
    t.strictSame(Object.fromEntries(Object.entries(written.jobs).filter(([name]) => name !== "nightly")), document.jobs, "every record exactly as it was");
    t.same(at("warn"), []);
    t.same(readdirSync(dir).filter((name) => name.startsWith("status.json.bad-")), [], "nothing kept aside");
  });

  t.test(`${variant}: a symlink planted at status.json is neither read nor written through`, async (t) => {
    const dir = tempDir(t, "boxinit-jobstatus-");
    const outside = tempDir(t, "boxinit-outside-");
    const target = join(outside, "secret.json");
    writeFileSync(target, JSON.stringify({ secret: "s3cr3t", jobs: { stolen: { runs: 99 } } }));
    symlinkSync(target, join(dir, "status.json"));
    updateJobRecord(dir, "nightly", nativeOf, recordingLogger().log, finished);
    const document = readJson(dir);
    t.notOk("secret" in document, "the link's target was not read into status.json");
    t.notOk("stolen" in document.jobs);
    t.equal(readFileSync(target, "utf8"), JSON.stringify({ secret: "s3cr3t", jobs: { stolen: { runs: 99 } } }), "the target is untouched");
  });

  t.test(`${variant}: an unwritable state directory is logged, never thrown`, async (t) => {
    const dir = join(tempDir(t, "boxinit-jobstatus-"), "missing", "deeper");
    const { log, at } = recordingLogger();
    t.equal(updateJobRecord(dir, "nightly", nativeOf, log, finished), false);
    t.match(at("warn"), [/cannot record the job in status\.json: ENOENT/]);
  });
}

t.test("odd job names are ordinary keys", async (t) => {
  const dir = tempDir(t, "boxinit-jobstatus-");
  const { log } = recordingLogger();
  for (const name of ["__proto__", "constructor", "../x"]) updateJobRecord(dir, name, native, log, finished);
  const jobs = readJson(dir).jobs;
  t.same(Object.keys(jobs).sort(), ["../x", "__proto__", "constructor"]);
  t.equal(jobs.__proto__.runs, 1);
});

t.test("recordOf fills what a stored entry lacks", async (t) => {
  t.strictSame(recordOf(undefined), EMPTY_RECORD);
  t.strictSame(recordOf([1]), EMPTY_RECORD);
  t.strictSame(recordOf({ runs: 4 }), { ...EMPTY_RECORD, runs: 4 });
});

// The concurrency proof. Each job writer counts its own runs up by one per
// update; PID 1's writer re-writes the whole document (carrying `jobs` over)
// in a loop. An update lost by either side shows as a count below the number
// of updates made (without the lock about one in five is lost). Each writer
// pauses ~2 ms between writes. On a loaded machine a writer can be starved
// past withStatusLock's wait (100 ms for PID 1, 1 s for a job), after which it
// writes unlocked by design (a frozen holder must not stall PID 1) and says so
// at debug level: the claim is "no lost update unless a writer reported going
// unlocked". The frozen holder itself is tested above with a real SIGSTOP.
const UPDATES = 300;
const PAUSE_MS = 2;

const jobWriterScript = (dir: string, name: string, goFile: string): string => `
  const { updateJobRecord } = await import(${JSON.stringify(new URL("../../src/jobs/job-status.ts", import.meta.url).href)});
  const { loadNative } = await import(${JSON.stringify(new URL("../../src/native/addon.ts", import.meta.url).href)});
  const { Logger } = await import(${JSON.stringify(new URL("../../src/log/logger.ts", import.meta.url).href)});
  const { existsSync } = await import("node:fs");
  const { native } = loadNative({ BOXINIT_ADDON: ${JSON.stringify(ADDON)} });
  let unlocked = 0, failed = 0;
  const log = new Logger({ write: (level, event, message) => { if (/without its lock/.test(message)) unlocked++; else process.stderr.write(message + "\\n"); } }, "debug");
  console.log("ready");
  while (!existsSync(${JSON.stringify(goFile)})) await new Promise((r) => setTimeout(r, 1));
  for (let i = 0; i < ${UPDATES}; i++) {
    if (!updateJobRecord(${JSON.stringify(dir)}, ${JSON.stringify(name)}, native, log, (p) => ({ ...p, runs: p.runs + 1, lastExit: i }))) failed++;
    await new Promise((r) => setTimeout(r, ${PAUSE_MS}));
  }
  console.log(JSON.stringify({ unlocked, failed }));
`;

const statusWriterScript = (dir: string, goFile: string, stopFile: string): string => `
  const { StatusFile } = await import(${JSON.stringify(new URL("../../src/control/status-file.ts", import.meta.url).href)});
  const { loadNative } = await import(${JSON.stringify(new URL("../../src/native/addon.ts", import.meta.url).href)});
  const { Logger } = await import(${JSON.stringify(new URL("../../src/log/logger.ts", import.meta.url).href)});
  const { existsSync } = await import("node:fs");
  const { native } = loadNative({ BOXINIT_ADDON: ${JSON.stringify(ADDON)} });
  const log = new Logger({ write: (level, event, message) => process.stderr.write(message + "\\n") }, "warn");
  const file = new StatusFile(${JSON.stringify(dir)}, log, { heartbeatMs: 60000, native });
  console.log("ready");
  while (!existsSync(${JSON.stringify(goFile)})) await new Promise((r) => setTimeout(r, 1));
  let writes = 0;
  while (!existsSync(${JSON.stringify(stopFile)})) {
    file.write({ state: "running", since: "2026-11-26T10:00:00.000Z", pid: 1, version: "0.1.0", backoff: false, heartbeatMs: 60000,
      services: { web: { state: "running", pid: 42, restarts: writes, lastExit: null, readyAt: null } } });
    writes++;
    await new Promise((r) => setTimeout(r, ${PAUSE_MS}));
  }
  file.close();
  console.log(JSON.stringify({ writes, unlocked: file.unlockedWrites }));
`;

interface Child {
  out: () => string;
  ended: Promise<number | null>;
}

const runScript = (t: { teardown(fn: () => void): void }, script: string): Child => {
  // env -u NODE_OPTIONS: tap's loaders would slow every child down for nothing.
  const child = spawn("env", ["-u", "NODE_OPTIONS", process.execPath, "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  t.teardown(() => child.kill("SIGKILL"));
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const ended = new Promise<number | null>((resolve) => child.once("close", (code) => {
    if (err !== "") process.stderr.write(`child stderr: ${err}`);
    resolve(code);
  }));
  return { out: () => out, ended };
};

t.test("no lost update: two job writers and PID 1's writer, each in its own process", async (t) => {
  if (!native) return t.fail(`no addon: ${failures.join("; ")}`);
  const dir = tempDir(t, "boxinit-jobstatus-");
  const goFile = join(dir, "..go");
  const stopFile = join(dir, "..stop");
  t.teardown(() => {
    if (!existsSync(stopFile)) writeFileSync(stopFile, "");
  });
  const writerA = runScript(t, jobWriterScript(dir, "alpha", goFile));
  const writerB = runScript(t, jobWriterScript(dir, "beta", goFile));
  const pid1 = runScript(t, statusWriterScript(dir, goFile, stopFile));
  await waitFor("the writers to be ready", () => [writerA, writerB, pid1].every((child) => child.out().startsWith("ready\n")), 20_000);
  writeFileSync(goFile, "");
  t.equal(await writerA.ended, 0, "writer alpha exited 0");
  t.equal(await writerB.ended, 0, "writer beta exited 0");
  writeFileSync(stopFile, "");
  t.equal(await pid1.ended, 0, "PID 1's writer exited 0");
  const countsA = JSON.parse(writerA.out().split("\n")[1]!);
  const countsB = JSON.parse(writerB.out().split("\n")[1]!);
  const pid1Counts = JSON.parse(pid1.out().split("\n")[1]!);
  const { writes } = pid1Counts;
  t.ok(writes > 0, `PID 1's writer wrote ${writes} times meanwhile`);
  t.same([countsA.failed, countsB.failed], [0, 0], "no update failed");
  const unlocked = countsA.unlocked + countsB.unlocked + pid1Counts.unlocked;
  const document = readJson(dir);
  t.equal(document.state, "running", "PID 1's fields are there");
  t.equal(document.services.web.restarts, writes - 1, "PID 1's last write is the one on disk");
  t.equal(document.jobs.alpha.lastExit, UPDATES - 1, "alpha's last update is the last one made");
  if (unlocked === 0) {
    t.equal(document.jobs.alpha.runs, UPDATES, `alpha: every one of ${UPDATES} updates is there`);
    t.equal(document.jobs.beta.runs, UPDATES, `beta: every one of ${UPDATES} updates is there`);
  } else {
    // Reported, so a loss is allowed: it must never go unsaid.
    t.comment(`writes that went ahead without the lock: ${JSON.stringify({ alpha: countsA.unlocked, beta: countsB.unlocked, pid1: pid1Counts.unlocked })}`);
    t.ok(document.jobs.alpha.runs <= UPDATES && document.jobs.beta.runs <= UPDATES, "never more updates than were made");
  }
});

t.test("records of jobs not run for the retention period are removed, oldest first, with a log line", async (t) => {
  const dir = tempDir(t, "boxinit-jobstatus-");
  const nowMs = Date.parse("2026-11-26T12:00:00.000Z");
  const ago = (days: number): string => new Date(nowMs - days * DAY_MS).toISOString();
  const jobs = {
    recent: { ...EMPTY_RECORD, lastStart: ago(1), lastEnd: ago(1), runs: 4 },
    old: { ...EMPTY_RECORD, lastStart: ago(40), lastEnd: ago(40), runs: 1 },
    older: { ...EMPTY_RECORD, lastStart: ago(90), lastEnd: ago(90), runs: 1 },
    skippedLately: { ...EMPTY_RECORD, lastStart: ago(100), lastSkip: { at: ago(2), reason: "backoff engaged" } },
    scheduled: { ...EMPTY_RECORD, lastStart: ago(200), schedule: "0 0 1 1 *", nextRun: "2027-01-01T00:00:00.000Z" },
    stillRunning: { ...EMPTY_RECORD, running: true, lastStart: ago(60) },
    nightly: { ...EMPTY_RECORD, lastStart: ago(365), runs: 9 },
  };
  writeFileSync(join(dir, "status.json"), JSON.stringify({ ...PID1_DOCUMENT, jobs }));
  const { log, at } = recordingLogger();
  t.ok(updateJobRecord(dir, "nightly", native, log, finished, { keepRecordsForMs: 30 * DAY_MS, nowMs }));
  const written = readJson(dir).jobs;
  t.same(Object.keys(written), ["recent", "skippedLately", "scheduled", "stillRunning", "nightly"], "the two not run for 30 days are gone; order kept");
  t.equal(written.nightly.runs, 10, "the job being written stays, however old its record");
  t.match(at("info"), [/removed the status\.json records of 2 jobs not run for the retention period \(job_logs\.max_age\), oldest first: older \(2026-08-28T12:00:00\.000Z\), old \(2026-10-17T12:00:00\.000Z\)/]);
  const again = recordingLogger();
  updateJobRecord(dir, "nightly", native, again.log, finished, { keepRecordsForMs: 30 * DAY_MS, nowMs });
  t.same(again.at("info"), [], "nothing more to remove, nothing logged");
});

t.test("a record still 'running' whose boxinit is provably gone (this PID namespace, pid free) is recorded as killed by the next writer", async (t) => {
  const dir = tempDir(t, "boxinit-jobstatus-");
  const pidNs = readlinkSync("/proc/self/ns/pid");
  const gonePid = Number(spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
  const runner = (pid: number, startTime: string | null, ns = pidNs) => ({ pid, startTime, pidNs: ns, host: hostname(), runId: `run-${pid}` });
  const started = "2026-11-26T03:00:00.000Z";
  const jobs = {
    killed: { ...EMPTY_RECORD, running: true, runner: runner(gonePid, "12345"), lastStart: started, runs: 2, failures: 0 },
    reused: { ...EMPTY_RECORD, running: true, runner: runner(process.pid, "1"), lastStart: started, runs: 1 },
    alive: { ...EMPTY_RECORD, running: true, runner: runner(process.pid, processStartTime(process.pid)), lastStart: started },
    elsewhere: { ...EMPTY_RECORD, running: true, runner: runner(gonePid, "12345", "pid:[1]"), lastStart: started },
    noRunner: { ...EMPTY_RECORD, running: true, lastStart: started },
  };
  writeFileSync(join(dir, "status.json"), JSON.stringify({ ...PID1_DOCUMENT, jobs }));
  const { log, at } = recordingLogger();
  t.ok(updateJobRecord(dir, "other", native, log, finished));
  const written = readJson(dir).jobs;
  t.strictSame(written.killed, { ...EMPTY_RECORD, lastStart: started, lastResult: "killed", runs: 3, failures: 1 }, "killed: not running, counted as a failed run, end unknown");
  t.equal(written.reused.lastResult, "killed", "a pid reused by a process started at another time is not the runner");
  t.strictSame(written.alive, jobs.alive, "a live runner is left running");
  t.strictSame(written.elsewhere, jobs.elsewhere, "another PID namespace: nothing known, nothing changed");
  t.strictSame(written.noRunner, jobs.noRunner, "a record of an older boxinit: nothing known");
  t.equal(at("warn").filter((line) => /ended without recording its end \(the boxinit running it, pid \d+, is gone\): recorded as killed/.test(line)).length, 2);
});

t.test("PID 1's writer going unlocked is logged at debug and counted; a SIGSTOPped lock holder delays writers, never stops them", async (t) => {
  const dir = tempDir(t, "boxinit-jobstatus-");
  writeFileSync(join(dir, "status.json"), JSON.stringify(PID1_DOCUMENT));
  // A real holder: flock(1) takes .status.lock, says so, then is frozen (docker pause, a debugger).
  // -o: only flock itself holds the lock, not its command; a group of its own to end both in teardown.
  const holder = spawn("flock", ["-o", "-x", join(dir, ".status.lock"), "-c", "echo locked; exec sleep 600"], { stdio: ["ignore", "pipe", "inherit"], detached: true });
  t.teardown(() => {
    process.kill(-holder.pid!, "SIGKILL");
    holder.stdout!.destroy();
  });
  let said = "";
  holder.stdout!.on("data", (chunk: Buffer) => (said += chunk.toString()));
  await waitFor("the holder to take the lock", () => said.includes("locked"), 20_000);
  process.kill(holder.pid!, "SIGSTOP");
  await waitFor("the holder to be stopped", () => /^\S+ \(.*\) T /.test(readFileSync(`/proc/${holder.pid}/stat`, "utf8")), 20_000);

  const recorded = recordingLogger();
  const file = new StatusFile(dir, recorded.log, { heartbeatMs: 60_000, native });
  file.write({ state: "stopping", since: "2026-11-26T10:00:00.000Z", pid: 1, version: "0.1.0", backoff: false, heartbeatMs: 60_000, services: {} });
  file.close();
  t.equal(file.unlockedWrites, 1, "counted");
  t.equal(readJson(dir).state, "stopping", "PID 1's write went ahead");
  t.same(readJson(dir).jobs, PID1_DOCUMENT.jobs, "jobs carried over");
  t.match(recorded.at("debug"), [/status\.json written without its lock .*count=1/]);

  const job = recordingLogger();
  t.ok(updateJobRecord(dir, "nightly", native, job.log, finished));
  t.equal(readJson(dir).jobs.nightly.runs, 1, "the job's record went ahead too");
  t.match(job.at("debug"), [/status\.json written without its lock/]);
  t.equal(readJson(dir).state, "stopping");
});

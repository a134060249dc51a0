// status.json's job records on the built binary, as PID 1 and as subreaper:
// a document over the old 1 MiB cap keeps every record (job runs and PID 1's
// writer); one that cannot be used is kept aside as status.json.bad-TIME with
// a log line; records of jobs not run for job_logs.max_age are removed with a
// log line; long job names are refused where they are given; a SIGKILLed
// `boxinit job` is recorded as killed by the next writer or run, and as
// subreaper its command dies with it (parent-death signal).
import t, { type Test } from "tap";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";
import { bigDocument } from "../helpers/status-documents.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { descendantsOf, readProcTable } from "../../src/pid1/proc-table.ts";

t.teardown(killAllRuns);

const DAY_MS = 86_400_000;

const job = (box: Box, name: string, ...rest: string[]): string[] => ["job", name, "--state-dir", box.stateDir, ...rest];

const keptAside = (box: Box): string[] => readdirSync(box.stateDir).filter((name) => name.startsWith("status.json.bad-")).sort();

/** Resolve once `check` is true, else fail at the deadline (a bound for an event, not a timing claim). */
/** A process is gone once /proc has no entry for it, or only its zombie. */
const isGone = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
};

/** A one-service box for PID 1's writer. */
const serviceBox = (t: Test): Box => makeBox(t, "services:\n  app:\n    command: [sleep, \"1000\"]\n", "boxinit-records-");

/** Start the box, wait until it says its services are up, stop it, and return its stderr. */
const bootAndStop = async (mode: Mode, box: Box): Promise<string> => {
  const run = startBoxinit(mode, [...box.args, "--log-format", "json"]);
  // Its log, not status.json: the document planted there may say "running" already.
  await run.waitFor(/every service is up/, "stderr", 30_000);
  await run.signal("SIGTERM");
  const ended = await run.result();
  if (ended.code !== 0) throw new Error(`boxinit exited ${ended.code}: ${run.stderr}`);
  return run.stderr;
};

for (const mode of MODES) {
  t.test(`${mode}: job records in status.json`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("a status.json over 1 MiB with 2,200 records: a job run keeps every record", async (t) => {
      const box = makeBox(t, "", "boxinit-records-");
      const document = bigDocument(2200, new Date(Date.now() - DAY_MS).toISOString());
      const text = JSON.stringify(document, null, 2);
      t.ok(text.length > 1024 * 1024, `${text.length} bytes`);
      writeFileSync(join(box.stateDir, "status.json"), text);
      const result = await runBoxinit(mode, job(box, "nightly", "--", "/bin/true"));
      t.equal(result.code, 0, result.stderr);
      const jobs = box.statusJson()?.jobs ?? {};
      t.equal(Object.keys(jobs).length, 2201, "2200 records and the new one");
      const { nightly, ...others } = jobs;
      t.strictSame(others, document.jobs, "every record exactly as it was");
      t.match(nightly, { runs: 1, lastResult: "ok" });
      t.notMatch(result.stderr, /not a JSON object|cannot be used/);
      t.same(keptAside(box), []);
    });

    await t.test("a status.json over 1 MiB with 2,200 records: PID 1's writer keeps every record", async (t) => {
      const box = serviceBox(t);
      const document = bigDocument(2200);
      writeFileSync(join(box.stateDir, "status.json"), JSON.stringify(document, null, 2));
      const stderr = await bootAndStop(mode, box);
      t.strictSame(box.statusJson()?.jobs, document.jobs, "carried over whole");
      t.notMatch(stderr, /not valid JSON|cannot be used/);
      t.same(keptAside(box), []);
    });

    await t.test("a torn status.json is kept aside as status.json.bad-TIME with a log line, by a job run and by PID 1", async (t) => {
      const torn = '{"schemaVersion": 1, "jobs": {"weekly": {"runs": 4';
      const box = makeBox(t, "", "boxinit-records-");
      writeFileSync(join(box.stateDir, "status.json"), torn);
      const result = await runBoxinit(mode, job(box, "nightly", "--", "/bin/true"));
      t.equal(result.code, 0);
      t.match(result.stderr, /warning: job: status\.json cannot be used: not valid JSON .*; kept as status\.json\.bad-\S+, a new one written/);
      t.equal(keptAside(box).length, 1);
      t.equal(readFileSync(join(box.stateDir, keptAside(box)[0]!), "utf8"), torn, "kept byte for byte");
      t.match(box.statusJson()?.jobs, { nightly: { runs: 1 } });

      const pid1Box = serviceBox(t);
      writeFileSync(join(pid1Box.stateDir, "status.json"), torn);
      const stderr = await bootAndStop(mode, pid1Box);
      t.match(stderr, /existing status\.json cannot be used: not valid JSON .*kept as status\.json\.bad-/);
      t.equal(keptAside(pid1Box).length, 1);
      t.equal(readFileSync(join(pid1Box.stateDir, keptAside(pid1Box)[0]!), "utf8"), torn);
      t.equal(pid1Box.statusJson()?.state, "stopped");
    });

    await t.test("records of jobs not run for job_logs.max_age are removed, oldest first, with a log line", async (t) => {
      const box = makeBox(t, "job_logs:\n  max_age: 7d\n", "boxinit-records-");
      const ago = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
      writeFileSync(join(box.stateDir, "status.json"), JSON.stringify({
        schemaVersion: 1,
        jobs: {
          fresh: { running: false, lastStart: ago(1), lastEnd: ago(1), runs: 1 },
          stale: { running: false, lastStart: ago(8), lastEnd: ago(8), runs: 1 },
          staler: { running: false, lastStart: ago(20), lastEnd: ago(20), runs: 1 },
        },
      }));
      const result = await runBoxinit(mode, [...job(box, "nightly", "--config", box.configPath, "--", "/bin/true")]);
      t.equal(result.code, 0, result.stderr);
      t.same(Object.keys(box.statusJson()?.jobs ?? {}).sort(), ["fresh", "nightly"]);
      t.match(result.stderr, /removed the status\.json records of 2 jobs not run for the retention period \(job_logs\.max_age\), oldest first: staler \(.*\), stale \(/);
    });

    await t.test("a job name over 63 bytes is refused where it is given: the command line and the config", async (t) => {
      const box = makeBox(t, `jobs:\n  ${"c".repeat(64)}:\n    command: [/bin/true]\n`, "boxinit-records-");
      const cli = await runBoxinit(mode, job(box, "n".repeat(10_000), "--", "/bin/true"));
      t.equal(cli.code, 2);
      t.match(cli.stderr, /boxinit job: usage: NAME "n{32}…": a job name is at most 63 bytes \(it is part of the failure report's file name\), got 10000/);
      t.ok(cli.stderr.length < 1000, "the name is not repeated in full");
      const config = await runBoxinit(mode, job(box, "other", "--config", box.configPath, "--", "/bin/true"));
      t.equal(config.code, 2);
      t.match(config.stderr, /jobs\["c{32}…"\]: a job name is at most 63 bytes/);
      t.equal(box.statusJson(), undefined, "nothing ran, nothing recorded");
      const fits = await runBoxinit(mode, job(box, "n".repeat(63), "--", "/bin/true"));
      t.equal(fits.code, 0, "63 bytes run");
    });

    await t.test("a SIGKILLed boxinit job: its command dies with it, and the record says killed", async (t) => {
      const box = makeBox(t, "", "boxinit-records-");
      const holder = startBoxinit(mode, job(box, "slow", "--", "/bin/sh", "-c", "echo holding; exec sleep 1000"));
      await holder.waitFor(/^holding$/m);
      const harness = await holder.boxinitPid();
      // "holding" comes just before the shell's exec.
      const sleeper = () => descendantsOf(harness, readProcTable()).find((entry) => entry.comm === "sleep");
      await waitFor("the command to exec sleep", () => sleeper() !== undefined, 30_000, 20);
      const command = sleeper();
      const record = box.statusJson()?.jobs?.slow;
      t.match(record, { running: true, runner: { pid: mode === "pid1" ? 1 : harness, pidNs: /^pid:\[\d+\]$/ } }, "the record names its runner");

      process.kill(harness, "SIGKILL");
      await holder.result();
      // As subreaper only the parent-death signal ends it; as PID 1 the kernel ends the namespace.
      await waitFor(`the command (pid ${command?.pid}) to die with its harness`, () => command === undefined || isGone(command.pid), 30_000, 20);
      t.pass("the command is gone");

      // Another job's run in this PID namespace reads the record: the runner is provably gone only when it was here too.
      const other = await runBoxinit("subreaper", job(box, "other", "--", "/bin/true"));
      t.equal(other.code, 0);
      if (mode === "subreaper") {
        t.match(box.statusJson()?.jobs?.slow, { running: false, runner: null, lastResult: "killed", lastEnd: null, runs: 1, failures: 1 });
        t.match(other.stderr, /job slow: its run ended without recording its end \(the boxinit running it, pid \d+, is gone\): recorded as killed/);
      } else {
        t.match(box.statusJson()?.jobs?.slow, { running: true }, "a runner in another PID namespace: nothing is known yet");
      }

      // The job's own next run takes the free lock and settles it either way.
      const next = await runBoxinit(mode, job(box, "slow", "--", "/bin/true"));
      t.equal(next.code, 0, next.stderr);
      t.match(box.statusJson()?.jobs?.slow, { running: false, runner: null, lastResult: "ok", runs: 2, failures: 1 }, "the killed run counts as a failed run");
      // As PID 1: said by the run taking the free lock, or (when the kernel gave its new namespace the
      // freed one's inode) already by its first record, which finds pid 1 started at another time.
      if (mode === "pid1") t.match(next.stderr, /job slow: (the earlier run \(started .*\)|its run) ended without recording its end .*recorded as killed/);
    });
  });
}

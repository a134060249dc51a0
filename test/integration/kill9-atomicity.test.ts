// kill -9 at random moments: PID 1 (boxinit as PID 1 of its own namespace,
// writing status and status.json on boot and on a 10 ms heartbeat) and
// `boxinit job` harnesses (each writing its record into the same status.json
// and a failure report into logs/) are SIGKILLed while they run, on two state
// directories at once, BOX_KILLS + JOB_KILLS times in all. After every kill
// each state file must be whole: `status` one known word, status.json a
// parseable object, every report complete (header, then exactly the output
// the job wrote). Nothing may ever be kept aside as unusable (a reader that
// met a torn status.json would have set it aside as status.json.bad-TIME),
// and a file, once written, never goes missing.
//
// The kill moments are drawn from what was measured here: one uninterrupted
// run of each kind first, then each kill at a uniform random delay over about
// that run's length (from the moment boxinit's pid exists). The seed is
// printed so a failure can be replayed with KILL9_SEED.
import t from "tap";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killAllRuns, missingPrerequisite, sleep, startBoxinit, type BoxinitRun } from "../helpers/boxinit.ts";

t.teardown(killAllRuns);

const BOX_KILLS = 100;
const JOB_KILLS = 110;
const STATE_DIRS = 2;
const STATUS_WORDS = new Set(["starting", "warming", "running", "degraded", "stopping", "stopped", "backedoff", "failed"]);
// 6000 numbered lines, 66,000 bytes: well under the 1 MiB capture, so a whole
// report holds every byte, and a report cut anywhere shows.
const LINE_COUNT = 6000;
const JOB_OUTPUT = Array.from({ length: LINE_COUNT }, (_, i) => `line-${String(i + 1).padStart(5, "0")}\n`).join("");
const JOB_COMMAND = `seq -f 'line-%05g' 1 ${LINE_COUNT}; exit 3`;
// A run that does not end this long after its kill (or, uninterrupted, at all) is a hang.
const END_TIMEOUT_MS = 30_000;

/** mulberry32: a small seeded generator, so a failing sequence of kill moments can be replayed. */
const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const readIfThere = (file: string): string | undefined => {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
};

/** What is wrong with one failure report's text (empty when it is whole). */
const reportProblems = (name: string, text: string): string[] => {
  const separator = "--- output (stdout and stderr as they arrived) ---\n";
  const at = text.indexOf(separator);
  if (!text.startsWith("# boxinit job failure report\n") || at === -1) return [`${name}: no complete header (${text.length} bytes)`];
  const header = text.slice(0, at);
  const body = text.slice(at + separator.length);
  const problems: string[] = [];
  if (!/^result: exit 3$/m.test(header)) problems.push(`${name}: header without "result: exit 3"`);
  if (!new RegExp(`^output: ${JOB_OUTPUT.length} bytes$`, "m").test(header)) problems.push(`${name}: header does not say output: ${JOB_OUTPUT.length} bytes`);
  if (body !== JOB_OUTPUT) problems.push(`${name}: output is ${body.length} bytes, not the ${JOB_OUTPUT.length} the job wrote`);
  return problems;
};

/** A state directory and what has been seen in it so far. */
interface Watched {
  dir: string;
  seen: Set<string>;
  reportsChecked: Set<string>;
}

/** Every problem with the state files of dir right now; records which files exist. */
const checkStateDir = (watched: Watched): string[] => {
  const { dir, seen } = watched;
  const problems: string[] = [];
  const status = readIfThere(join(dir, "status"));
  if (status !== undefined) {
    seen.add("status");
    if (!/^[a-z]+\n$/.test(status) || !STATUS_WORDS.has(status.trim())) problems.push(`status is ${JSON.stringify(status)}`);
  } else if (seen.has("status")) {
    problems.push("status went missing after it had been written");
  }
  const json = readIfThere(join(dir, "status.json"));
  if (json !== undefined) {
    seen.add("status.json");
    try {
      const document = JSON.parse(json);
      if (typeof document !== "object" || document === null || Array.isArray(document)) problems.push("status.json is not an object");
      else if (typeof document.schemaVersion !== "number") problems.push("status.json has no schemaVersion");
      else if (document.state !== undefined && !STATUS_WORDS.has(document.state)) problems.push(`status.json state ${JSON.stringify(document.state)}`);
    } catch (error) {
      problems.push(`status.json does not parse (${json.length} bytes): ${(error as Error).message}`);
    }
  } else if (seen.has("status.json")) {
    problems.push("status.json went missing after it had been written");
  }
  for (const name of readdirSync(dir)) {
    if (name.startsWith("status.json.bad")) problems.push(`a writer found status.json unusable and kept it aside as ${name}`);
  }
  const logs = join(dir, "logs");
  if (existsSync(logs)) {
    for (const name of readdirSync(logs)) {
      // Temp files (.report.*.tmp) are a killed writer's unfinished work: never a report.
      if (name.startsWith(".") || watched.reportsChecked.has(name)) continue;
      if (!/-cron-failure-k\d+-\d+-exit-3-/.test(name)) {
        problems.push(`logs/${name}: not a report name`);
        continue;
      }
      const text = readIfThere(join(logs, name));
      // Retention may have removed it since the listing.
      if (text === undefined) continue;
      const found = reportProblems(name, text);
      problems.push(...found);
      if (found.length === 0) watched.reportsChecked.add(name);
    }
  }
  return problems;
};

/** Resolve with boxinit's pid, or undefined if the run ended first. */
const pidOf = async (run: BoxinitRun): Promise<number | undefined> => {
  const ended = run.ended.then(() => undefined);
  return Promise.race([run.boxinitPid(END_TIMEOUT_MS), ended]);
};

/** Wait for the end of a run, failing loudly on a hang. */
const ending = async (run: BoxinitRun, what: string): Promise<void> => {
  try {
    await run.result(END_TIMEOUT_MS);
  } catch (error) {
    run.kill();
    throw new Error(`${what}: ${(error as Error).message}`);
  }
};

const boxArgs = (dir: string, configPath: string): string[] => ["--config", configPath, "--state-dir", dir];

const jobArgs = (dir: string, name: string): string[] => ["job", name, "--state-dir", dir, "--", "/bin/sh", "-c", JOB_COMMAND];

t.test("the checker catches what a torn write leaves", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "boxinit-kill9-check-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const watched: Watched = { dir, seen: new Set(), reportsChecked: new Set() };
  const whole = `# boxinit job failure report\njob: k1-1\nresult: exit 3\noutput: ${JOB_OUTPUT.length} bytes\n--- output (stdout and stderr as they arrived) ---\n${JOB_OUTPUT}`;
  mkdirSync(join(dir, "logs"));
  writeFileSync(join(dir, "status"), "running\n");
  writeFileSync(join(dir, "status.json"), JSON.stringify({ schemaVersion: 1, state: "running" }));
  writeFileSync(join(dir, "logs", "2026-01-01T00:00:00Z-cron-failure-k1-1-exit-3-host"), whole);
  t.same(checkStateDir(watched), [], "whole files pass");
  t.equal(watched.reportsChecked.size, 1, "the report was read and found whole");
  writeFileSync(join(dir, "status"), "runn");
  writeFileSync(join(dir, "status.json"), `{"schemaVersion": 1, "sta`);
  writeFileSync(join(dir, "logs", "2026-01-01T00:00:01Z-cron-failure-k1-2-exit-3-host"), whole.slice(0, -10));
  writeFileSync(join(dir, "logs", "2026-01-01T00:00:02Z-cron-failure-k1-3-exit-3-host"), whole.slice(0, 40));
  writeFileSync(join(dir, "status.json.bad-2026"), "");
  const problems = checkStateDir(watched);
  t.match(problems, [/^status is "runn"$/, /^status.json does not parse/, /kept it aside as status.json.bad-2026/, /k1-2-exit-3-host: output is 65990 bytes/, /k1-3-exit-3-host: no complete header/]);
  rmSync(join(dir, "status"));
  rmSync(join(dir, "status.json"));
  t.match(checkStateDir(watched), [/^status went missing/, /^status.json went missing/]);
});

t.test("kill -9 of PID 1 and of job harnesses at random moments leaves every state file whole", async (t) => {
  const missing = missingPrerequisite("pid1");
  if (missing) return t.fail(missing);
  const seed = Number(process.env.KILL9_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.comment(`seed ${seed} (replay with KILL9_SEED=${seed})`);
  const random = seededRandom(seed);
  const root = mkdtempSync(join(tmpdir(), "boxinit-kill9-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));

  const dirs: Watched[] = Array.from({ length: STATE_DIRS }, (_, i) => ({ dir: join(root, `state${i}`), seen: new Set(), reportsChecked: new Set() }));
  // One service that lives until killed; a heartbeat of 10 ms keeps PID 1 rewriting status.json.
  const configPath = join(root, "boxinit.yaml");
  for (const { dir } of dirs) mkdirSync(dir);
  writeFileSync(configPath, `heartbeat: 10ms\ninit_dir: ${join(root, "init.d")}\nfinish_dir: ${join(root, "finish.d")}\nservices:\n  svc:\n    command: [sleep, "1000"]\n`);

  // --- measure one uninterrupted run of each kind, under whatever load there is now ---
  const calibrationDir: Watched = { dir: join(root, "calibration"), seen: new Set(), reportsChecked: new Set() };
  mkdirSync(calibrationDir.dir);
  const box = startBoxinit("pid1", boxArgs(calibrationDir.dir, configPath));
  const boxPidAt = (await pidOf(box)) === undefined ? NaN : Date.now();
  for (;;) {
    const document = readIfThere(join(calibrationDir.dir, "status"));
    if (document === "running\n") break;
    if (box.child.exitCode !== null || Date.now() - boxPidAt > END_TIMEOUT_MS) throw new Error(`the calibration box never ran\n${box.stderr}`);
    await sleep(5);
  }
  // Boot, then about twenty heartbeats: kills land on both kinds of write.
  const boxSpanMs = Date.now() - boxPidAt + 200;
  await box.signal("SIGTERM");
  await ending(box, "calibration box");
  const job = startBoxinit("pid1", jobArgs(calibrationDir.dir, "k9-0"));
  const jobPidAt = (await pidOf(job)) === undefined ? NaN : Date.now();
  await ending(job, "calibration job");
  const jobSpanMs = Date.now() - jobPidAt;
  t.equal(job.child.exitCode, 3, "an uninterrupted job run ends with its code");
  t.same(checkStateDir(calibrationDir), [], "and leaves whole files");
  t.ok(calibrationDir.reportsChecked.size === 1, "including its report, which the checker recognised as whole");
  t.ok(Number.isFinite(boxSpanMs) && Number.isFinite(jobSpanMs), `measured: box boot + 20 heartbeats ${boxSpanMs} ms, a whole job run ${jobSpanMs} ms`);

  // --- the kills ---
  const problems: string[] = [];
  const tally = { box: 0, job: 0, jobFinished: 0, checks: 0 };
  const check = (watched: Watched, what: string): void => {
    tally.checks++;
    for (const problem of checkStateDir(watched)) problems.push(`${what}: ${watched.dir}: ${problem}`);
  };
  const boxWorker = async (watched: Watched, kills: number): Promise<void> => {
    for (let i = 0; i < kills; i++) {
      const delayMs = random() * boxSpanMs;
      const run = startBoxinit("pid1", boxArgs(watched.dir, configPath));
      const pid = await pidOf(run);
      if (pid === undefined) {
        problems.push(`box ${i}: ended before it could be killed: ${run.stderr}`);
        continue;
      }
      await sleep(delayMs);
      try {
        process.kill(pid, "SIGKILL");
      } catch (error) {
        problems.push(`box ${i}: gone before its kill (${(error as Error).message}): ${run.stderr}`);
      }
      await ending(run, `box ${i}`);
      tally.box++;
      check(watched, `after box kill ${i} at ${Math.round(delayMs)} ms`);
    }
  };
  const jobWorker = async (watched: Watched, worker: number, kills: number): Promise<void> => {
    for (let i = 0; i < kills; i++) {
      // From a fifth of a run (Node is still starting: nothing is written
      // before) to a fifth past its measured end (some runs finish whole).
      const delayMs = (0.2 + random()) * jobSpanMs;
      const run = startBoxinit("pid1", jobArgs(watched.dir, `k${worker}-${i}`));
      const pid = await pidOf(run);
      if (pid !== undefined) {
        await sleep(delayMs);
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // It ended just before: a whole run, checked all the same.
        }
      }
      await ending(run, `job ${worker}-${i}`);
      if (run.child.exitCode === 3) tally.jobFinished++;
      tally.job++;
      check(watched, `after job kill ${worker}-${i} at ${Math.round(delayMs)} ms`);
    }
  };
  const started = Date.now();
  await Promise.all([
    ...dirs.map((watched) => boxWorker(watched, BOX_KILLS / STATE_DIRS)),
    ...dirs.map((watched, i) => jobWorker(watched, i + 1, JOB_KILLS / STATE_DIRS)),
  ]);
  const tookMs = Date.now() - started;
  for (const watched of dirs) check(watched, "at the end");

  t.same(problems, [], `every state file whole after each of ${tally.box + tally.job} kills (${tally.checks} checks)`);
  t.equal(tally.box + tally.job, BOX_KILLS + JOB_KILLS, `${BOX_KILLS} kills of PID 1 and ${JOB_KILLS} of job harnesses`);
  t.ok(BOX_KILLS + JOB_KILLS >= 200, "at least 200 in one run");
  for (const watched of dirs) {
    t.ok(watched.seen.has("status") && watched.seen.has("status.json"), `${watched.dir}: status and status.json were written (and checked) along the way`);
  }
  const reports = dirs.reduce((sum, watched) => sum + watched.reportsChecked.size, 0);
  t.comment(`${tookMs} ms; ${tally.jobFinished} of ${tally.job} job runs finished before their kill, ${reports} whole reports checked; ` +
    `temp files left by killed writers: ${dirs.map((watched) => readdirSync(watched.dir).filter((name) => name.startsWith(".") && name.endsWith(".tmp")).length + (existsSync(join(watched.dir, "logs")) ? readdirSync(join(watched.dir, "logs")).filter((name) => name.endsWith(".tmp")).length : 0)).join(" + ")}`);
  t.ok(tally.jobFinished < tally.job, "some job runs were killed before they ended (the kills were not all too late)");
});

// The symlink swap race of issue 13 (bug 1), for real: while root `boxinit
// job` runs fail again and again (each writes a report, takes the job's lock,
// records itself and prunes with keep 1), a second process swaps logs/ and
// jobs/ for symlinks to an outside directory and back, as fast as it can
// (test/fixtures/swap-dirs.c). Whatever boxinit met at each moment, nothing
// outside may be created, truncated or deleted. Before the fix a root job
// deleted report-named files there, truncated a file named like its lock and
// created its temp files there.
import t from "tap";
import { spawn } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, fixture, killAllRuns, missingPrerequisite, runBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";
import { reportFileName } from "../../src/jobs/report-name.ts";

t.teardown(killAllRuns);

// Job runs per mode. The unfixed code lost files in most attempts, usually at the first run.
const RUNS = 25;
const JOB = "nightly";

/** name → content of every entry in dir (directories as "<dir>"). */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).sort().map((name) => {
    const path = join(dir, name);
    return [name, lstatSync(path).isDirectory() ? "<dir>" : readFileSync(path, "latin1")];
  }));

/** The swapper, started and ready; stop() ends it and resolves to its swap count. */
const startSwapper = async (t: { teardown(fn: () => void): void }, stateDir: string, outside: string) => {
  const child = spawn(fixture("swap-dirs"), [stateDir, outside], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (stdout.includes("ready\n")) resolve();
    };
    child.stdout.on("data", check);
    void closed.then((code) => reject(new Error(`swap-dirs ended before it was ready (exit ${code}): ${stderr}`)));
  });
  return {
    stop: async (): Promise<{ code: number | null; swaps: number; stderr: string }> => {
      child.kill("SIGTERM");
      const code = await closed;
      return { code, swaps: Number(/^swaps (\d+)$/m.exec(stdout)?.[1] ?? -1), stderr };
    },
  };
};

for (const mode of MODES) {
  t.test(`${mode}: logs/ and jobs/ swapped for symlinks during ${RUNS} failing root jobs: nothing outside is touched`, async (t) => {
    const missing = missingPrerequisite(mode);
    t.notOk(missing, missing ?? "prerequisites present");
    if (missing) return;
    t.equal(process.getuid?.(), 0, "the race is about a root boxinit: run the tests as root");
    const box = makeBox(t, "job_logs: {keep: 1}\n", "boxinit-race-");
    const outside = join(box.dir, "outside");
    mkdirSync(outside);
    // What a root job would destroy there: report-named files retention would
    // delete (old, and more than keep), a file named like the job's lock, and
    // a file named like nothing of boxinit's.
    for (let index = 0; index < 28; index++) {
      writeFileSync(join(outside, reportFileName(new Date(Date.UTC(2020, 0, 1, 0, 0, index)), JOB, 3, "victim-host")), `victim report ${index}\n`);
    }
    writeFileSync(join(outside, `${JOB}.lock`), "a file named like the job's lock: must not be truncated\n");
    writeFileSync(join(outside, "notes.txt"), "someone else's notes\n");
    const before = snapshot(outside);

    const swapper = await startSwapper(t, box.stateDir, outside);
    const outcomes: Array<{ code: number | null; report: "saved" | "refused" | "other" }> = [];
    for (let run = 0; run < RUNS; run++) {
      const result = await runBoxinit(mode, ["job", JOB, ...box.args, "--", "/bin/sh", "-c", "echo some output; exit 3"], { timeoutMs: 60_000 });
      const report = /report saved/.test(result.stderr) ? "saved"
        : /the report could not be saved: (ELOOP|ENOTDIR)/.test(result.stderr) ? "refused" : "other";
      outcomes.push({ code: result.code, report });
      if (report === "other") t.fail(`run ${run}: neither saved nor refused\n${result.stderr}`);
    }
    const stopped = await swapper.stop();

    t.equal(stopped.code, 0, `the swapper ended cleanly ${stopped.stderr}`);
    t.ok(stopped.swaps > 0, `the names were swapped while the jobs ran (${stopped.swaps} swaps)`);
    t.same(outcomes.map((outcome) => outcome.code), outcomes.map(() => 3), "every run exits with the job's code");
    t.same(snapshot(outside), before, "outside: nothing created, truncated or deleted");
    t.ok(statSync(join(box.stateDir, "logs")).isDirectory() && statSync(join(box.stateDir, "jobs")).isDirectory(), "logs/ and jobs/ are the real directories again");
    const saved = outcomes.filter((outcome) => outcome.report === "saved").length;
    t.comment(`${saved} of ${RUNS} reports saved, ${RUNS - saved} refused (logs/ was a symlink when opened); ${stopped.swaps} swaps`);
    const leftovers = readdirSync(join(box.stateDir, "logs")).filter((name) => name.startsWith("."));
    t.same(leftovers, [], "no temp file left in the real logs/");
  });
}

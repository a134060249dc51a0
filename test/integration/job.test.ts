// `boxinit job NAME ... -- CMD` on the built binary, as PID 1 of a fresh PID
// namespace and as a subreaper: exit codes (the job's, 128+N, 124), failure
// reports (exact name, header, captured output with its cap), status.json
// jobs.NAME, backoff and the lock (skip, --wait, stale), the environment the
// job and the on_failure hook see, hostile names, retention, docker stop,
// and the processes a job leaves behind.
import t, { type Test } from "tap";
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BOXINIT, MODES, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";
import { deadPid } from "../helpers/proc.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { reportFileName } from "../../src/jobs/report-name.ts";
import { descendantsOf, readProcTable } from "../../src/pid1/proc-table.ts";

t.teardown(killAllRuns);

/** The seed's name, exactly: <ISO-8601 UTC to the second>-cron-failure-NAME-exit-CODE-HOST. */
const reportPattern = (name: string, code: number, host: string): RegExp =>
  new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ-cron-failure-${escapeRegExp(name)}-exit-${code}-${escapeRegExp(host)}$`);

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Reports in logs/ (no temp files), sorted. */
const reportsOf = (box: Box): string[] => {
  try {
    return readdirSync(join(box.stateDir, "logs")).filter((name) => !name.startsWith(".")).sort();
  } catch {
    return [];
  }
};

/** The single report in logs/, or a failed assertion. */
const onlyReport = (t: Test, box: Box): { name: string; text: string } => {
  const reports = reportsOf(box);
  t.equal(reports.length, 1, `one report (${reports.join(", ") || "none"})`);
  const name = reports[0] ?? "";
  return { name, text: name === "" ? "" : readFileSync(join(box.stateDir, "logs", name), "utf8") };
};

/** The hostname the job sees: the first "host=NAME" line of its output. */
const hostSeen = (stdout: string): string => /^host=(.*)$/m.exec(stdout)?.[1] ?? "(job printed no host= line)";

const PRINT_HOST = "echo host=$(cat /proc/sys/kernel/hostname)";

/** Job args with the box's state directory. */
const job = (box: Box, name: string, ...rest: string[]): string[] => ["job", name, "--state-dir", box.stateDir, ...rest];

const jobBox = (t: Test, config = ""): Box => makeBox(t, config, "boxinit-job-");

/** Resolve once `check` is true, else fail at the deadline. */
/**
 * Start boxinit with a shell prefix run first in the same process (which then
 * execs boxinit): as PID 1 the prefix runs as PID 1 of the new namespace, so
 * after its exec boxinit is PID 1. `unshare --uts` gives it a hostname of its own.
 */
const startWithPrefix = (t: Test, mode: Mode, prefix: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
  const unshare = mode === "pid1" ? ["--pid", "--fork", "--mount-proc", "--uts"] : ["--uts"];
  const child = spawn("unshare", [...unshare, "/bin/sh", "-c", `${prefix}; exec "$0" "$@"`, BOXINIT, ...args], {
    env: { ...process.env, NODE_OPTIONS: undefined },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    if (child.exitCode !== null || child.pid === undefined) return;
    for (const pid of [child.pid, ...descendantsOf(child.pid, readProcTable()).map((entry) => entry.pid)]) {
      try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    }
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
};

for (const mode of MODES) {
  t.test(`${mode}: boxinit job`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    t.teardown(killAllRuns);

    await t.test("success: exit 0, output passed through, no report, status.json jobs.NAME", async (t) => {
      const box = jobBox(t);
      const before = Date.now();
      const result = await runBoxinit(mode, job(box, "nightly", "--", "/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2"));
      t.equal(result.code, 0);
      t.match(result.stdout, /^to-stdout$/m, "stdout passed through");
      t.match(result.stderr, /^to-stderr$/m, "stderr passed through");
      t.match(result.stderr, /job nightly succeeded/);
      t.same(reportsOf(box), [], "no report for a success");
      const record = box.statusJson()?.jobs?.nightly;
      t.match(record, {
        running: false, lastExit: 0, lastSignal: null, lastResult: "ok", logFile: null, runs: 1, failures: 0, lastSkip: null,
      });
      t.ok(Date.parse(record.lastStart) >= before - 1000 && Date.parse(record.lastStart) <= Date.parse(record.lastEnd), "lastStart <= lastEnd, both now");
      t.equal(typeof record.lastDurationMs, "number");
      t.notOk("state" in (box.statusJson() ?? {}), "a job run does not invent PID 1's fields");
      t.equal(readFileSync(join(box.stateDir, "jobs/nightly.lock"), "utf8"), "", "the lock is released empty");
      const again = await runBoxinit(mode, job(box, "nightly", "--", "/bin/true"));
      t.equal(again.code, 0);
      t.match(box.statusJson()?.jobs?.nightly, { runs: 2, failures: 0 }, "runs counts up");
    });

    await t.test("failure (exit 3): exit 3, the report's exact name, header and output", async (t) => {
      const box = jobBox(t);
      const script = `${PRINT_HOST}; echo out-line; echo err-line >&2; exit 3`;
      const result = await runBoxinit(mode, job(box, "reindex", "--", "/bin/sh", "-c", script));
      t.equal(result.code, 3);
      const host = hostSeen(result.stdout);
      const report = onlyReport(t, box);
      t.match(report.name, reportPattern("reindex", 3, host), `named for the job, its code and the host the job saw (${host})`);
      const lines = report.text.split("\n");
      t.same(lines.slice(0, 3), ["# boxinit job failure report", "job: reindex", lines[2]]);
      t.match(lines[2], /^run: \S+$/);
      t.equal(lines[3], `command: ${JSON.stringify(["/bin/sh", "-c", script])}`);
      t.equal(lines[4], `host: ${host}`);
      t.match(lines[5], /^started: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      t.match(lines[6], /^ended: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      t.match(lines[7], /^duration: \d+(ms|(\.\d+)?s)$/);
      t.equal(lines[8], "result: exit 3");
      const output = `host=${host}\nout-line\nerr-line\n`;
      t.equal(lines[9], `output: ${output.length} bytes`);
      t.equal(lines[10], "--- output (stdout and stderr as they arrived) ---");
      t.equal(lines.slice(11).join("\n"), output, "stdout and stderr, captured");
      t.equal(report.name.slice(0, 20), `${lines[5]!.slice("started: ".length, "started: ".length + 19)}Z`, "the name carries the start time, to the second");
      t.match(box.statusJson()?.jobs?.reindex, {
        running: false, lastExit: 3, lastSignal: null, lastResult: "failed", logFile: `logs/${report.name}`, runs: 1, failures: 1,
      });
      t.match(result.stderr, new RegExp(`job reindex failed: exit 3; report saved .*report=${escapeRegExp(join(box.stateDir, "logs", report.name))}`));
    });

    await t.test("death by signal: the job KILLs itself → 137, report exit-137, lastSignal SIGKILL", async (t) => {
      const box = jobBox(t);
      const result = await runBoxinit(mode, job(box, "suicide", "--", "/bin/sh", "-c", `${PRINT_HOST}; echo before; kill -KILL $$`));
      t.equal(result.code, 137);
      const report = onlyReport(t, box);
      t.match(report.name, reportPattern("suicide", 137, hostSeen(result.stdout)));
      t.match(report.text, /^result: killed by SIGKILL \(exit 137\)$/m);
      t.match(report.text, /\nbefore\n$/);
      t.match(box.statusJson()?.jobs?.suicide, { lastExit: 137, lastSignal: "SIGKILL", lastResult: "signal", failures: 1 });
    });

    await t.test("timeout: --timeout 300ms on sleep 30 → TERM, exit 124, report exit-124", async (t) => {
      const box = jobBox(t);
      const result = await runBoxinit(mode, job(box, "slow", "--timeout", "300ms", "--", "/bin/sh", "-c", `${PRINT_HOST}; exec sleep 30`));
      t.equal(result.code, 124);
      const report = onlyReport(t, box);
      t.match(report.name, reportPattern("slow", 124, hostSeen(result.stdout)));
      t.match(report.text, /^result: timed out after 300ms, ended by SIGTERM \(exit 124\)$/m);
      t.match(box.statusJson()?.jobs?.slow, { lastExit: 124, lastSignal: "SIGTERM", lastResult: "timeout" });
      t.match(result.stderr, /job slow timed out after 300ms: SIGTERM, SIGKILL after 9s/);
    });

    await t.test("timeout of a job that ignores TERM: SIGKILL after --grace, still 124", async (t) => {
      const box = jobBox(t);
      // `trap '' TERM` is inherited through exec: sleep ignores TERM too. It
      // must be in place before the timeout's TERM: 1s leaves the shell ample
      // time to start even on a loaded machine.
      const result = await runBoxinit(mode, job(box, "stubborn", "--timeout", "1s", "--grace", "500ms", "--", "/bin/sh", "-c",
        `trap '' TERM; ${PRINT_HOST}; exec sleep 30`));
      t.equal(result.code, 124);
      const report = onlyReport(t, box);
      t.match(report.name, reportPattern("stubborn", 124, hostSeen(result.stdout)));
      t.match(report.text, /^result: timed out after 1s, ended by SIGKILL \(exit 124\)$/m);
      t.match(box.statusJson()?.jobs?.stubborn, { lastExit: 124, lastSignal: "SIGKILL", lastResult: "timeout" });
      t.match(result.stderr, /SIGTERM, SIGKILL after 500ms/);
    });

    await t.test("output cap (capture_bytes from the config): head + cut marker + tail in the report, all of it on stdout", async (t) => {
      const box = jobBox(t, `jobs:
  chatty:
    command: "echo HEAD-START; head -c 10000 /dev/zero | tr '\\\\0' x; echo; echo TAIL-END; exit 5"
    capture_bytes: 2048
`);
      const result = await runBoxinit(mode, ["job", "chatty", ...box.args]);
      t.equal(result.code, 5);
      const full = `HEAD-START\n${"x".repeat(10_000)}\nTAIL-END\n`;
      t.equal(result.stdout, full, "the whole output passed through, uncut");
      const report = onlyReport(t, box);
      t.match(report.name, reportPattern("chatty", 5, report.name.split("-exit-5-")[1] ?? "?"));
      const body = report.text.slice(report.text.indexOf("---\n") + 4);
      const cut = full.length - 2048;
      t.match(report.text, new RegExp(`^output: ${full.length} bytes, ${cut} cut from the middle$`, "m"));
      const marker = `\n[... boxinit: ${cut} bytes cut from the middle of the output ...]\n`;
      t.equal(body, `${full.slice(0, 1024)}${marker}${full.slice(-1024)}`, "the first 1024 bytes, the marker, the last 1024");
    });

    await t.test("backoff engaged: nothing runs, exit 0, the skip is recorded", async (t) => {
      const box = jobBox(t);
      box.setBackoff("true\n");
      const ran = join(box.dir, "ran");
      const result = await runBoxinit(mode, job(box, "nightly", "--", "/bin/sh", "-c", `touch ${ran}; exit 3`));
      t.equal(result.code, 0);
      t.notOk(existsSync(ran), "the command did not run");
      t.match(result.stderr, /job nightly not run: backoff engaged/);
      t.same(reportsOf(box), []);
      t.match(box.statusJson()?.jobs?.nightly, { runs: 0, lastSkip: { reason: "backoff engaged" } });
      box.setBackoff("false\n");
      t.equal((await runBoxinit(mode, job(box, "nightly", "--", "/bin/sh", "-c", `touch ${ran}`))).code, 0);
      t.ok(existsSync(ran), "with backoff false it runs");
    });

    await t.test("backoff.file outside the state directory (a ConfigMap directory) is the one checked", async (t) => {
      const box = jobBox(t);
      const control = join(box.dir, "control");
      mkdirSync(control);
      writeFileSync(join(control, "backoff"), "true\n");
      box.setBackoff("false\n");
      const ran = join(box.dir, "ran-elsewhere");
      const env = { BOXINIT_BACKOFF_FILE: join(control, "backoff") };
      const result = await runBoxinit(mode, job(box, "nightly", "--", "/bin/sh", "-c", `touch ${ran}`), { env });
      t.equal(result.code, 0);
      t.notOk(existsSync(ran), "STATE_DIR/backoff says false, but the configured file says true: nothing ran");
      t.match(result.stderr, /job nightly not run: backoff engaged/);
      writeFileSync(join(control, "backoff"), "false\n");
      t.equal((await runBoxinit(mode, job(box, "nightly", "--", "/bin/sh", "-c", `touch ${ran}`), { env })).code, 0);
      t.ok(existsSync(ran), "released in the configured file, it runs");
    });

    await t.test("overlap: a second run is skipped (exit 0) while the first holds the lock; --wait waits, then runs", async (t) => {
      const box = jobBox(t);
      const release = join(box.dir, "release");
      const first = startBoxinit(mode, job(box, "single", "--", "/bin/sh", "-c",
        `echo first-running; while [ ! -e ${release} ]; do sleep 0.02; done; echo first-done >> ${box.dir}/order`));
      await first.waitFor(/^first-running$/m);
      const second = join(box.dir, "second-ran");
      const skipped = await runBoxinit(mode, job(box, "single", "--", "/bin/sh", "-c", `touch ${second}`));
      t.equal(skipped.code, 0);
      t.notOk(existsSync(second), "the second run's command did not run");
      t.match(skipped.stderr, /job single not run: already running/);
      t.match(box.statusJson()?.jobs?.single, { running: true, lastSkip: { reason: "already running" } });

      // Proof the waiting run tried while the lock was held: each attempt
      // reads the lock file, which moves its atime once the test has set it
      // to the epoch (relatime updates an atime older than the mtime); the
      // first run never reads it again. Two reads: the first attempt is over.
      const lockFile = join(box.stateDir, "jobs/single.lock");
      const awaitRead = async (what: string): Promise<void> => {
        utimesSync(lockFile, 0, statSync(lockFile).mtime);
        await waitFor(`${what} (atime of ${lockFile}; a noatime mount cannot show it)`, () => statSync(lockFile).atimeMs !== 0, 10_000, 10);
      };
      const firstRead = awaitRead("the waiting run's first attempt");
      const waiting = startBoxinit(mode, job(box, "single", "--wait", "30s", "--", "/bin/sh", "-c",
        `test -e ${release} && echo waited-then-ran >> ${box.dir}/order`));
      await firstRead;
      await awaitRead("the waiting run's next attempt");
      t.equal(waiting.child.exitCode, null, "the waiting run is still there, waiting");
      writeFileSync(release, "");
      t.equal((await first.result()).code, 0);
      t.equal((await waiting.result()).code, 0, "the waiting run ran its command, after the release");
      t.equal(readFileSync(join(box.dir, "order"), "utf8"), "first-done\nwaited-then-ran\n");
      t.match(box.statusJson()?.jobs?.single, { running: false, runs: 2 });
    });

    await t.test("--wait gives up at its bound: skipped, exit 0", async (t) => {
      const box = jobBox(t);
      const release = join(box.dir, "release");
      t.teardown(() => writeFileSync(release, ""));
      const first = startBoxinit(mode, job(box, "single", "--", "/bin/sh", "-c", `echo first-running; while [ ! -e ${release} ]; do sleep 0.02; done`));
      await first.waitFor(/^first-running$/m);
      const ran = join(box.dir, "ran");
      const result = await runBoxinit(mode, job(box, "single", "--wait", "300ms", "--", "touch", ran));
      t.equal(result.code, 0);
      t.notOk(existsSync(ran));
      t.match(result.stderr, /job single not run: already running/);
      writeFileSync(release, "");
      t.equal((await first.result()).code, 0);
    });

    await t.test("a stale lock (naming a dead pid) is taken over with a warning, and the job runs", async (t) => {
      const box = jobBox(t);
      mkdirSync(join(box.stateDir, "jobs"));
      const stale = { pid: deadPid(), startTime: "1", host: "old-host", runId: "old-run", startedAt: "2026-01-01T00:00:00.000Z" };
      writeFileSync(join(box.stateDir, "jobs/nightly.lock"), `${JSON.stringify(stale)}\n`);
      const ran = join(box.dir, "ran");
      const result = await runBoxinit(mode, job(box, "nightly", "--", "touch", ran));
      t.equal(result.code, 0);
      t.ok(existsSync(ran), "the command ran");
      t.match(result.stderr, /warning: job: took over the lock of an earlier run that ended without releasing it .*run=old-run/);
      t.equal(readFileSync(join(box.stateDir, "jobs/nightly.lock"), "utf8"), "", "released empty at the end");
    });

    await t.test("the job sees boxinit's own environment, plus BOXINIT_JOB and BOXINIT_RUN_ID", async (t) => {
      const box = jobBox(t);
      const result = await runBoxinit(mode, job(box, "envy", "--", "/bin/sh", "-c",
        'echo "only=$ONLY_IN_THE_CONTAINER job=$BOXINIT_JOB run=$BOXINIT_RUN_ID"; exit 1'), { env: { ONLY_IN_THE_CONTAINER: "from docker run -e" } });
      t.equal(result.code, 1);
      const match = /^only=(.*) job=(.*) run=(.*)$/m.exec(result.stdout);
      t.equal(match?.[1], "from docker run -e", "a variable set only in boxinit's environment");
      t.equal(match?.[2], "envy");
      t.match(match?.[3], /^\S+$/, "a run id");
      t.match(onlyReport(t, box).text, new RegExp(`^run: ${escapeRegExp(match?.[3] ?? "?")}$`, "m"), "the report names the same run");
    });

    await t.test("the on_failure hook gets the documented variables; its failure does not change the job's code", async (t) => {
      const box = jobBox(t);
      const hookOut = join(box.dir, "hook.env");
      const hook = `env | grep ^BOXINIT_ | sort > ${hookOut}; if test -f "$BOXINIT_LOG_FILE"; then echo LOG_FILE_EXISTS >> ${hookOut}; fi; exit 9`;
      const result = await runBoxinit(mode, job(box, "alerting", "--on-failure", hook, "--", "/bin/sh", "-c", `${PRINT_HOST}; exit 4`));
      t.equal(result.code, 4, "the job's code, not the hook's 9");
      const report = onlyReport(t, box);
      const host = hostSeen(result.stdout);
      const seen = readFileSync(hookOut, "utf8").split("\n");
      t.ok(seen.includes("BOXINIT_JOB=alerting"), seen.join(" "));
      t.ok(seen.includes("BOXINIT_EXIT_CODE=4"));
      t.ok(seen.includes("BOXINIT_SIGNAL="), "no signal: empty");
      t.ok(seen.includes(`BOXINIT_LOG_FILE=${join(box.stateDir, "logs", report.name)}`));
      t.ok(seen.includes(`BOXINIT_HOSTNAME=${host}`));
      t.ok(seen.includes("LOG_FILE_EXISTS"), "the report exists when the hook runs");
      t.match(result.stderr, /on_failure hook of job alerting failed \(exit 9\); the job's exit code stands/);
    });

    await t.test("the hook after a death by signal gets BOXINIT_SIGNAL; no hook after a success", async (t) => {
      const box = jobBox(t);
      const hookOut = join(box.dir, "hook.env");
      const hook = `env | grep -E '^BOXINIT_(EXIT_CODE|SIGNAL)=' | sort > ${hookOut}`;
      const result = await runBoxinit(mode, job(box, "killed", "--on-failure", hook, "--", "/bin/sh", "-c", "kill -KILL $$"));
      t.equal(result.code, 137);
      t.equal(readFileSync(hookOut, "utf8"), "BOXINIT_EXIT_CODE=137\nBOXINIT_SIGNAL=SIGKILL\n");
      t.match(result.stderr, /on_failure hook of job killed ran/);
      const okOut = join(box.dir, "ok-hook");
      t.equal((await runBoxinit(mode, job(box, "fine", "--on-failure", `touch ${okOut}`, "--", "/bin/true"))).code, 0);
      t.notOk(existsSync(okOut), "no hook after a success");
    });

    await t.test("hostile names: NAME ../x and a hostname with / → one sanitised report inside logs/", async (t) => {
      const box = jobBox(t);
      const result = await startWithPrefix(t, mode, "printf 'a/../b' > /proc/sys/kernel/hostname",
        job(box, "../x", "--", "/bin/sh", "-c", `${PRINT_HOST}; exit 2`));
      t.equal(result.code, 2, result.stderr);
      t.equal(hostSeen(result.stdout), "a/../b", "the job saw the hostile hostname");
      const report = onlyReport(t, box);
      t.match(report.name, reportPattern("_x", 2, "a_.._b"), "slashes and leading dots gone");
      t.ok(lstatSync(join(box.stateDir, "logs", report.name)).isFile(), "a plain file directly in logs/");
      t.same(readdirSync(box.stateDir).sort(), [".status.lock", "jobs", "logs", "status.json"], "nothing written elsewhere in the state directory");
      t.same(readdirSync(box.dir).sort(), ["boxinit.yaml", "state"], "nor beside it");
      t.match(report.text, /^job: \.\.\/x$/m, "the header keeps the real name");
      t.match(report.text, /^host: a\/\.\.\/b$/m);
      t.match(box.statusJson()?.jobs?.["../x"], { lastExit: 2, logFile: `logs/${report.name}` });
    });

    await t.test("retention: job_logs keep 2 removes only the oldest reports, never a foreign file", async (t) => {
      const box = jobBox(t, "job_logs: {keep: 2}\n");
      const logs = join(box.stateDir, "logs");
      mkdirSync(logs);
      // Hours old: well inside the default max_age (30 days), so only the count removes them.
      const old = [3, 2, 1].map((hours) => reportFileName(new Date(Date.now() - hours * 3_600_000), "nightly", 1, "old-host"));
      for (const name of old) writeFileSync(join(logs, name), "old report\n");
      const foreign = ["notes.txt", "2020-01-01-cron-failure-by-hand", ".2020-01-01T00:00:00Z-cron-failure-hidden-exit-1-h"];
      for (const name of foreign) writeFileSync(join(logs, name), "not boxinit's\n");
      const lookalikeDir = reportFileName(new Date("2019-01-01T00:00:00Z"), "dir", 1, "h");
      mkdirSync(join(logs, lookalikeDir));
      const lookalikeLink = reportFileName(new Date("2019-01-02T00:00:00Z"), "link", 1, "h");
      symlinkSync(join(box.dir, "boxinit.yaml"), join(logs, lookalikeLink));
      const result = await runBoxinit(mode, ["job", "nightly", ...box.args, "--", "/bin/sh", "-c", `${PRINT_HOST}; exit 1`]);
      t.equal(result.code, 1);
      const now = readdirSync(logs).sort();
      const fresh = now.find((name) => reportPattern("nightly", 1, hostSeen(result.stdout)).test(name));
      t.ok(fresh, "the new report is there");
      t.same(now, [...foreign, lookalikeDir, lookalikeLink, old[2]!, fresh!].sort(), "the two newest reports kept; a directory, a symlink and other names untouched");
      t.match(result.stderr, /removed old failure reports count=2/);
      t.equal(readFileSync(join(box.dir, "boxinit.yaml"), "utf8").includes("keep: 2"), true, "the symlink's target is intact");
    });

    await t.test("retention: job_logs max_age removes reports older than it, whatever keep says", async (t) => {
      const box = jobBox(t, "job_logs: {keep: 100, max_age: 1d}\n");
      const logs = join(box.stateDir, "logs");
      mkdirSync(logs);
      const tooOld = reportFileName(new Date(Date.now() - 2 * 86_400_000), "nightly", 1, "old-host");
      const young = reportFileName(new Date(Date.now() - 3_600_000), "nightly", 1, "old-host");
      writeFileSync(join(logs, tooOld), "old\n");
      writeFileSync(join(logs, young), "young\n");
      const result = await runBoxinit(mode, ["job", "nightly", ...box.args, "--", "/bin/sh", "-c", "exit 1"]);
      t.equal(result.code, 1);
      t.notOk(existsSync(join(logs, tooOld)), "older than max_age: removed");
      t.ok(existsSync(join(logs, young)), "younger: kept");
      t.equal(reportsOf(box).length, 2);
    });

    await t.test("docker stop: SIGTERM to boxinit reaches the job, exit 143, report saved", async (t) => {
      const box = jobBox(t);
      const marker = join(box.dir, "got-term");
      const run = startBoxinit(mode, job(box, "stopped", "--", "/bin/sh", "-c",
        `trap 'echo got-TERM > ${marker}; trap - TERM; kill -TERM $$' TERM; echo ready; while :; do sleep 0.05; done`));
      await run.waitFor(/^ready$/m);
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 143);
      t.equal(readFileSync(marker, "utf8"), "got-TERM\n", "the job got TERM");
      const report = onlyReport(t, box);
      t.match(report.name, /-cron-failure-stopped-exit-143-/);
      t.match(report.text, /^result: killed by SIGTERM \(exit 143\)$/m);
      t.match(run.stderr, /received SIGTERM: stopping job stopped/);
      t.match(box.statusJson()?.jobs?.stopped, { running: false, lastExit: 143, lastSignal: "SIGTERM" });
    });

    await t.test("docker stop of a job that ignores TERM: SIGKILL after --grace, 137", async (t) => {
      const box = jobBox(t);
      const run = startBoxinit(mode, job(box, "deaf", "--grace", "500ms", "--", "/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30"));
      await run.waitFor(/^ready$/m);
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 137);
      t.match(onlyReport(t, box).text, /^result: killed by SIGKILL \(exit 137\)$/m);
    });

    await t.test("an orphan the job leaves is reaped while the job runs; a process left behind is stopped with TERM", async (t) => {
      const box = jobBox(t);
      // Named scripts: /proc shows their names, so the test can find them. The
      // leftover's output goes to /dev/null: what it writes after the job is
      // the next test's subject.
      const orphan = box.script("zz-orphan", `touch ${box.dir}/orphan-ran\n`);
      const leftover = box.script("zz-leftover", `exec >/dev/null 2>&1\ntrap 'echo TERM > ${box.dir}/leftover-term; exit 0' TERM\ntouch ${box.dir}/leftover-ready\nwhile :; do sleep 0.05; done\n`);
      const release = join(box.dir, "release");
      const run = startBoxinit(mode, job(box, "messy", "--", "/bin/sh", "-c",
        `(${orphan} &); (${leftover} &); while [ ! -e ${release} ]; do sleep 0.02; done; echo job-done`));
      t.teardown(() => writeFileSync(release, ""));
      await waitFor("the leftover to start", () => existsSync(join(box.dir, "leftover-ready")), 10_000, 10);
      await waitFor("the orphan to run", () => existsSync(join(box.dir, "orphan-ran")), 10_000, 10);
      const boxinitPid = await run.boxinitPid();
      const named = (comm: string) => descendantsOf(boxinitPid, readProcTable()).filter((entry) => entry.comm === comm);
      t.ok(named("zz-leftover").length === 1 && named("zz-leftover")[0]!.ppid === boxinitPid, "the left-behind process is boxinit's child (re-parented)");
      await waitFor("the exited orphan to be reaped (no zombie under boxinit)", () => named("zz-orphan").length === 0, 10_000, 10);
      t.pass("no zombie left by the orphan");
      writeFileSync(release, "");
      const ended = await run.result();
      t.equal(ended.code, 0, "the job's code, not the leftover's");
      t.match(run.stdout, /^job-done$/m);
      t.equal(readFileSync(join(box.dir, "leftover-term"), "utf8"), "TERM\n", "the leftover was asked to stop with TERM and cleaned up");
      t.match(run.stderr, /job messy ended with \d+ process(es)? of its group still running: SIGTERM/, "stopped by the harness: it was in the job's process group");
    });

    await t.test("a daemon that left the job's group (setsid) is stopped too, by boxinit job's last phase", async (t) => {
      const box = jobBox(t);
      const daemon = box.script("zz-daemon", `exec >/dev/null 2>&1\ntrap 'echo TERM > ${box.dir}/daemon-term; exit 0' TERM\ntouch ${box.dir}/daemon-ready\nwhile :; do sleep 0.05; done\n`);
      const result = await runBoxinit(mode, job(box, "daemonizer", "--", "/bin/sh", "-c",
        `setsid ${daemon} & while [ ! -e ${box.dir}/daemon-ready ]; do sleep 0.02; done; echo job-done`));
      t.equal(result.code, 0);
      t.equal(readFileSync(join(box.dir, "daemon-term"), "utf8"), "TERM\n", "the daemon got TERM and cleaned up");
      t.match(result.stderr, /sent SIGTERM to the processes left/);
    });

    await t.test("docker stop during a run with a slow on_failure hook: everything keeps to the grace, the record is written", async (t) => {
      const box = jobBox(t);
      const hookRan = join(box.dir, "hook-ran");
      const run = startBoxinit(mode, job(box, "slowhook", "--grace", "2s", "--on-failure", `touch ${hookRan}; exec sleep 60`,
        "--", "/bin/sh", "-c", "echo ready; exec sleep 60"));
      await run.waitFor(/^ready$/m);
      await run.signal("SIGTERM");
      // The hook alone would take 60 s: an exit within 20 s means it was bounded.
      const ended = await run.result(20_000);
      t.equal(ended.code, 143, "the job's code: it died of the TERM");
      t.match(run.stderr, /on_failure hook of job slowhook (still running after \S+: SIGTERM|not run: the stop's grace period is used up)/);
      t.match(box.statusJson()?.jobs?.slowhook, { running: false, lastExit: 143, lastSignal: "SIGTERM" }, "recorded before the hook");
      t.match(onlyReport(t, box).name, /-cron-failure-slowhook-exit-143-/);
    });

    await t.test("a stop that comes while the on_failure hook runs reaches the hook: the exit keeps to the grace", async (t) => {
      const box = jobBox(t);
      const hookStarted = join(box.dir, "hook-started");
      const hookTerm = join(box.dir, "hook-term");
      const run = startBoxinit(mode, job(box, "hooked", "--grace", "2s",
        "--on-failure", `trap 'echo TERM > ${hookTerm}; exit 0' TERM; touch ${hookStarted}; while :; do sleep 0.05; done`,
        "--", "/bin/sh", "-c", "exit 3"));
      await waitFor("the hook to start", () => existsSync(hookStarted), 10_000, 10);
      await run.signal("SIGTERM");
      // The hook alone would run for its whole 60 s timeout: an end within 20 s means the stop reached it.
      const ended = await run.result(20_000);
      t.equal(ended.code, 3, "the job's code: the hook does not change it");
      t.equal(readFileSync(hookTerm, "utf8"), "TERM\n", "the hook got the stop's TERM");
      t.match(box.statusJson()?.jobs?.hooked, { running: false, lastExit: 3 });
    });

    await t.test("logs/ planted as a symlink: the report is not written through it", async (t) => {
      const box = jobBox(t);
      const elsewhere = join(box.dir, "elsewhere");
      mkdirSync(elsewhere);
      mkdirSync(box.stateDir, { recursive: true });
      symlinkSync(elsewhere, join(box.stateDir, "logs"));
      const result = await runBoxinit(mode, job(box, "linked", "--", "/bin/sh", "-c", "exit 3"));
      t.equal(result.code, 3, "the job's code stands");
      t.same(readdirSync(elsewhere), [], "nothing written where the link points");
      t.match(result.stderr, /the report could not be saved: ELOOP/);
    });

    await t.test("a process left behind that still writes to the job's output is not killed by SIGPIPE before its TERM cleanup", async (t) => {
      const box = jobBox(t);
      // dash reports its killed `sleep` ("Terminated") on stderr, the job's
      // pipe: the cleanup must not die on a pipe boxinit closed meanwhile.
      // The job ends only once the leftover's trap is set: a TERM before that would end it outright.
      const leftover = box.script("zz-talker", `trap 'echo cleaning up >&2; echo TERM > ${box.dir}/talker-term; exit 0' TERM\necho talker-ready\ntouch ${box.dir}/talker-ready\nwhile :; do sleep 0.05; done\n`);
      const result = await runBoxinit(mode, job(box, "talky", "--", "/bin/sh", "-c",
        `(${leftover} &); while [ ! -e ${box.dir}/talker-ready ]; do sleep 0.02; done; echo job-done`));
      t.equal(result.code, 0);
      t.match(result.stdout, /^talker-ready$/m);
      t.equal(readFileSync(join(box.dir, "talker-term"), "utf8"), "TERM\n", "the leftover ran its TERM trap, writing to stderr on the way");
    });

    await t.test("without the addon: output passes through uncaptured, the report says so; the pid lock still guards overlap", async (t) => {
      const box = jobBox(t);
      const noAddon = { env: { BOXINIT_ADDON: "/nonexistent/boxinit.node" } };
      const result = await runBoxinit(mode, job(box, "plain", "--", "/bin/sh", "-c", "echo visible; exit 3"), noAddon);
      t.equal(result.code, 3);
      t.match(result.stdout, /^visible$/m, "the job's output still reaches stdout");
      const report = onlyReport(t, box);
      t.match(report.text, /^output: 0 bytes \(not captured: the addon boxinit\.node is not loaded\)$/m);
      if (mode === "subreaper") {
        // Pid and start time identify the holder only inside one PID namespace: as PID 1 each run is pid 1 of its own.
        const release = join(box.dir, "release");
        t.teardown(() => writeFileSync(release, ""));
        const first = startBoxinit(mode, job(box, "plain", "--", "/bin/sh", "-c", `echo first-running; while [ ! -e ${release} ]; do sleep 0.02; done`), noAddon);
        await first.waitFor(/^first-running$/m);
        const ran = join(box.dir, "ran");
        const second = await runBoxinit(mode, job(box, "plain", "--", "touch", ran), noAddon);
        t.equal(second.code, 0);
        t.notOk(existsSync(ran), "skipped while the first runs");
        t.match(second.stderr, /job plain not run: already running/);
        writeFileSync(release, "");
        t.equal((await first.result()).code, 0);
      }
    });

    await t.test("usage errors: no name, no command → exit 2, nothing run", async (t) => {
      const box = jobBox(t);
      const noName = await runBoxinit(mode, ["job", "--state-dir", box.stateDir, "--", "/bin/true"]);
      t.equal(noName.code, 2);
      t.match(noName.stderr, /boxinit job: usage: expected a job name/);
      const noCommand = await runBoxinit(mode, job(box, "unknown"));
      t.equal(noCommand.code, 2);
      t.match(noCommand.stderr, /no command for job "unknown": give one after --/);
      t.same(readdirSync(box.stateDir), [], "nothing written");
    });
  });
}

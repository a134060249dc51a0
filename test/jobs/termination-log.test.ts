// The termination message of `boxinit job` (pure line, and its write): written
// only into an existing file, truncated to the kubelet's 4096 bytes, and a
// write that fails is logged, never thrown.
import t from "tap";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TERMINATION_LOG_PATH, terminationLogPath, terminationSummary, writeTerminationLog } from "../../src/jobs/termination-log.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";

t.test("the line: name, exit code, result, report path", async (t) => {
  t.equal(terminationSummary("reindex", { kind: "finished", exitCode: 0, result: "ok" }, "/docker"), "job reindex: exit 0 (ok)\n");
  t.equal(terminationSummary("reindex", { kind: "finished", exitCode: 3, result: "failed", reportFile: "logs/2026-12-02T10:00:00Z-cron-failure-reindex-exit-3-box" }, "/docker"),
    "job reindex: exit 3 (failed), report /docker/logs/2026-12-02T10:00:00Z-cron-failure-reindex-exit-3-box\n");
  t.equal(terminationSummary("reindex", { kind: "finished", exitCode: 124, result: "timeout" }, "/docker"), "job reindex: exit 124 (timeout), no report saved (see boxinit's log)\n");
  t.equal(terminationSummary("reindex", { kind: "skipped", reason: "backoff engaged", exitCode: 0 }, "/docker"), "job reindex: not run: backoff engaged (exit 0)\n");
  t.equal(terminationSummary("a\nb", { kind: "finished", exitCode: 0, result: "ok" }, "/docker"), "job a\\nb: exit 0 (ok)\n", "one line whatever the name");
});

t.test("the path: BOXINIT_TERMINATION_LOG, else the kubelet's", async (t) => {
  t.equal(terminationLogPath({}), TERMINATION_LOG_PATH);
  t.equal(terminationLogPath({ BOXINIT_TERMINATION_LOG: "" }), "/dev/termination-log", "empty counts as unset");
  t.equal(terminationLogPath({ BOXINIT_TERMINATION_LOG: "/tmp/x" }), "/tmp/x");
});

t.test("an existing file: replaced by the line; no file: nothing created, nothing said", async (t) => {
  const dir = tempDir(t);
  const recorded = recordingLogger();
  const path = join(dir, "termination-log");
  writeFileSync(path, "an older and much longer message from a previous run\n");
  t.equal(writeTerminationLog("job x: exit 0 (ok)\n", recorded.log, path), "written");
  t.equal(readFileSync(path, "utf8"), "job x: exit 0 (ok)\n");
  const absent = join(dir, "absent");
  t.equal(writeTerminationLog("job x: exit 0 (ok)\n", recorded.log, absent), "absent");
  t.notOk(existsSync(absent), "not created");
  t.same(recorded.lines, []);
});

t.test("at most the kubelet's 4096 bytes", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "termination-log");
  writeFileSync(path, "");
  t.equal(writeTerminationLog(`${"x".repeat(5000)}\n`, recordingLogger().log, path), "written");
  t.equal(readFileSync(path).length, 4096);
});

t.test("a directory, or a FIFO no one reads: a warning naming the path, never a throw or a hang", async (t) => {
  const dir = tempDir(t);
  const recorded = recordingLogger();
  const directory = join(dir, "dir");
  mkdirSync(directory);
  t.equal(writeTerminationLog("job x: exit 1 (failed)\n", recorded.log, directory), "failed");
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  t.equal(writeTerminationLog("job x: exit 1 (failed)\n", recorded.log, fifo), "failed");
  const warnings = recorded.at("warn");
  t.equal(warnings.length, 2);
  t.match(warnings[0], /^boxinit: warning: job: cannot write the termination message: EISDIR.* path=/);
  t.match(warnings[1], /^boxinit: warning: job: cannot write the termination message: ENXIO.* path=/);
});

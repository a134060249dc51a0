// `boxinit job` on the built binary, as PID 1 and as a subreaper, leaves its
// one-line summary in the termination message file when that file exists
// (BOXINIT_TERMINATION_LOG stands in for the kubelet's /dev/termination-log):
// a success, a failure with its report's path, a run skipped by backoff; no
// file: none made; a file it cannot write: the job's own exit code anyway.
import t, { type Test } from "tap";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const CONFIG = `jobs:
  nightly:
    command: "echo working; exit 0"
  broken:
    command: "echo cannot reindex >&2; exit 3"
`;

/** A box with the config and an empty termination message file, as the kubelet mounts one. */
const podBox = (t: Test): { box: Box; messageFile: string } => {
  const box = makeBox(t, CONFIG, "boxinit-termlog-");
  const messageFile = join(box.dir, "termination-log");
  writeFileSync(messageFile, "");
  return { box, messageFile };
};

for (const mode of MODES) {
  t.test(`${mode}: boxinit job writes the termination message`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) {
      t.fail(missing);
      return;
    }

    await t.test("a success: name and exit 0", async (t) => {
      const { box, messageFile } = podBox(t);
      const result = await runBoxinit(mode, ["job", "nightly", ...box.args], { env: { BOXINIT_TERMINATION_LOG: messageFile } });
      t.equal(result.code, 0, result.stderr);
      t.equal(readFileSync(messageFile, "utf8"), "job nightly: exit 0 (ok)\n");
    });

    await t.test("a failure: its exit code and the report's path, which holds the run's output", async (t) => {
      const { box, messageFile } = podBox(t);
      const result = await runBoxinit(mode, ["job", "broken", ...box.args], { env: { BOXINIT_TERMINATION_LOG: messageFile } });
      t.equal(result.code, 3, result.stderr);
      const reports = readdirSync(join(box.stateDir, "logs")).filter((name) => !name.startsWith("."));
      t.equal(reports.length, 1, "one report");
      const reportPath = join(box.stateDir, "logs", reports[0] ?? "");
      t.equal(readFileSync(messageFile, "utf8"), `job broken: exit 3 (failed), report ${reportPath}\n`);
      t.match(readFileSync(reportPath, "utf8"), /cannot reindex/);
    });

    await t.test("backoff engaged: not run, said so", async (t) => {
      const { box, messageFile } = podBox(t);
      box.setBackoff("true\n");
      const result = await runBoxinit(mode, ["job", "nightly", ...box.args], { env: { BOXINIT_TERMINATION_LOG: messageFile } });
      t.equal(result.code, 0);
      t.equal(readFileSync(messageFile, "utf8"), "job nightly: not run: backoff engaged (exit 0)\n");
    });

    await t.test("no such file (Docker): none is made, nothing is said about it", async (t) => {
      const { box } = podBox(t);
      const absent = join(box.dir, "no-termination-log");
      const result = await runBoxinit(mode, ["job", "broken", ...box.args], { env: { BOXINIT_TERMINATION_LOG: absent } });
      t.equal(result.code, 3);
      t.notOk(existsSync(absent), "not created");
      t.notMatch(result.stderr, /termination/);
    });

    await t.test("a file it cannot write: a warning, and the job's own exit code", async (t) => {
      const { box } = podBox(t);
      const directory = join(box.dir, "a-directory");
      mkdirSync(directory);
      const result = await runBoxinit(mode, ["job", "broken", ...box.args], { env: { BOXINIT_TERMINATION_LOG: directory } });
      t.equal(result.code, 3, "the job's code, not a harness failure");
      t.match(result.stderr, /warning: job: cannot write the termination message: EISDIR/);
    });
  });
}

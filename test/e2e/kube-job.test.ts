// A batch book's CronJob from `boxinit host kube`, its run played by podman
// 4.3 (`podman kube play`). podman refuses CronJob and Job, so the CronJob's
// pod template is played as a Pod (helpers/kube-manifests.ts cronJobAsPod):
// that pod is what each Job of the CronJob starts. podman gives a container
// no /dev/termination-log and never reads one back, so the test mounts a host
// file there (withTerminationLogFile) and reads it as the kubelet would.
// Not proven here, since podman plays no CronJob: the schedule,
// concurrencyPolicy Forbid, startingDeadlineSeconds, backoffLimit 0 and
// activeDeadlineSeconds (host kube's own tests check what they say).
import t, { type Test } from "tap";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_IMAGE, makeHostDir } from "../helpers/docker.ts";
import { makeKubeBook, type KubeBook } from "../helpers/kube-book.ts";
import { cronJobAsPod, findManifest, forPodman, podSpecOf, withTerminationLogFile, type Manifest } from "../helpers/kube-manifests.ts";
import { playKube, podmanImageAs, requirePodman } from "../helpers/podman.ts";
import { stateDirReader } from "../helpers/state-dir.ts";

/** The seed's report name: <ISO-8601 UTC>-cron-failure-<NAME>-exit-<CODE>-<HOSTNAME>; a pod's hostname is its name. */
const REPORT = (job: string, code: number, host: string): RegExp =>
  new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ-cron-failure-${job}-exit-${code}-${host}$`);

interface JobRun {
  book: KubeBook;
  pod: string;
  exitCode: number;
  restarts: number;
  /** What the run left at its terminationMessagePath. */
  terminationMessage: string;
}

/** One run of the batch book's CronJob: its pod template played as a Pod, with the control ConfigMap's backoff as given. */
const runOnce = async (t: Test, backoff: string): Promise<JobRun> => {
  const book = await makeKubeBook(t, "job.book.yaml", BASE_IMAGE);
  const manifests = await book.manifests();
  const cronJob = findManifest(manifests, "CronJob");
  t.equal(podSpecOf(cronJob).restartPolicy, "Never", "a failed run is not run again in its pod");
  const control: Manifest = structuredClone(findManifest(manifests, "ConfigMap", `${book.name}-control`));
  control.data = { ...control.data, backoff };

  const pod = `${book.name}-run`;
  const terminationLog = join(makeHostDir(t, "termination-log"), "termination-log");
  writeFileSync(terminationLog, "", { mode: 0o666 });
  const podManifest = withTerminationLogFile(cronJobAsPod(cronJob, pod), terminationLog);
  await podmanImageAs(t, BASE_IMAGE, podSpecOf(podManifest).containers[0].image);
  // The run mounts the control ConfigMap as every pod of the book does.
  const played = await playKube(t, forPodman([control, podManifest]));
  const container = played.container(pod, podSpecOf(podManifest).containers[0].name);
  const ended = await container.waitFor("the run's end", () => container.inspect(), (inspected) => inspected.State.Status === "exited", 120_000);
  return { book, pod, exitCode: ended.State.ExitCode, restarts: ended.RestartCount, terminationMessage: readFileSync(terminationLog, "utf8") };
};

const reportsIn = (home: string): string[] => (existsSync(join(home, "logs")) ? readdirSync(join(home, "logs")) : []);

t.test("a CronJob's run on podman: boxinit job's failure report and termination message", async (t) => {
  if (!(await requirePodman(t, [BASE_IMAGE]))) return;
  const run = await runOnce(t, "false\n");
  t.equal(run.exitCode, 3, "the pod's container ends with the job's code");
  t.equal(run.restarts, 0, "and was not restarted");

  const reports = reportsIn(run.book.home);
  t.equal(reports.length, 1, `one failure report: ${reports.join(", ")}`);
  t.match(reports[0], REPORT("nightly", 3, run.pod), "the seed's name, with the pod's hostname");
  const report = readFileSync(join(run.book.home, "logs", reports[0]!), "utf8");
  t.match(report, /^# boxinit job failure report\njob: nightly\n/);
  t.match(report, /result: exit 3\n/);
  t.match(report, /reindexing\n[^]*disk full\n|disk full\n[^]*reindexing\n/, "stdout and stderr are both in it");

  const lines = run.terminationMessage.split("\n").filter(Boolean);
  t.equal(lines.length, 1, `one line in the termination log: ${JSON.stringify(run.terminationMessage)}`);
  t.match(lines[0], /nightly/, "it names the job");
  t.match(lines[0], /\b3\b/, "and its exit code");
  t.ok(lines[0]?.includes(reports[0]!), "and the report, which exists: written before the message");

  const job = stateDirReader(run.book.home, 50, 10_000).statusJson()?.jobs?.nightly;
  t.equal(job?.lastExit, 3, "status.json has the run");
  t.equal(job?.logFile, `logs/${reports[0]}`);
});

t.test("a CronJob's run with backoff engaged in the control ConfigMap: nothing runs, exit 0, the message says why", async (t) => {
  if (!(await requirePodman(t, [BASE_IMAGE]))) return;
  const run = await runOnce(t, "true\n");
  t.equal(run.exitCode, 0, "a run held by backoff is no failure (the Job would not be retried or counted failed)");
  t.same(reportsIn(run.book.home), [], "no report: the command never ran");
  const lines = run.terminationMessage.split("\n").filter(Boolean);
  t.equal(lines.length, 1, `one line in the termination log: ${JSON.stringify(run.terminationMessage)}`);
  t.match(lines[0], /nightly: not run: .*backoff/, "it says the job was not run, and why");
});

// A batch book (kube.schedule) as a CronJob: Kubernetes' guards and
// boxinit's own (the job harness's lock), the deadline from the job's
// timeout, and the refusals of a book that is not a `boxinit job` run.
import { join } from "node:path";
import t from "tap";
import { kubeManifests } from "../../src/host/kube-manifests.ts";
import { validateObject } from "../helpers/kube-models.ts";
import { CONFLUENCE_CONFIG, FIXTURES, PROBE_CONFIG, bookOfText, inputsOf, manifestsOf, objectOf, podOf } from "../helpers/kube-inputs.ts";

const batch = async (command: string, kube = '{schedule: "*/5 * * * *"}', extra = "") =>
  await bookOfText(`name: nightly\nhome: /srv/nightly\ncommand: ${command}\nkube: ${kube}\n${extra}`);

const errorsOf = async (book: Awaited<ReturnType<typeof batch>>, config?: string): Promise<string[]> => {
  const result = kubeManifests(await inputsOf(book, config));
  return result.ok ? [] : result.errors;
};

t.test("the batch example: Forbid, boxinit's job, no retry, the deadline, Never, not suspended", async (t) => {
  const { objects } = await manifestsOf(join(FIXTURES, "books/batch.book.yaml"), CONFLUENCE_CONFIG);
  for (const object of objects) validateObject(object);
  const cron = objectOf(objects, "CronJob");
  t.match(cron.spec, {
    schedule: "0 3 * * *", timeZone: "Europe/Berlin", concurrencyPolicy: "Forbid", startingDeadlineSeconds: 300, suspend: false,
    jobTemplate: { spec: { backoffLimit: 0, activeDeadlineSeconds: 3600 + 9 + 5 } },
  });
  const pod = podOf(objects);
  t.equal(pod.restartPolicy, "Never");
  const container = pod.containers[0];
  t.strictSame(container.args, ["job", "reindex", "--timeout", "1h", "--", "/opt/scripts/reindex.sh"], "boxinit job: its lock in the state directory");
  t.notOk("command" in container, "the image's ENTRYPOINT, boxinit");
  t.notOk("livenessProbe" in container || "readinessProbe" in container || "startupProbe" in container, "a job has no probes");
  t.equal(container.terminationMessagePolicy, "FallbackToLogsOnError");
  t.strictSame(container.env, [{ name: "BOXINIT_BACKOFF_FILE", value: "/etc/boxinit-control/backoff" }], "backoff checked by the job; no on_engage: a job only exits");
  t.strictSame(objectOf(objects, "ConfigMap").data, { backoff: "false" });
});

t.test("the timeout: from --timeout in the command, else the box config's job; the hook's own time added", async (t) => {
  const deadline = async (command: string, config?: string) =>
    objectOf((await manifestsOf(await batch(command), config)).objects, "CronJob").spec.jobTemplate.spec.activeDeadlineSeconds;
  t.equal(await deadline("[job, x, --timeout=90s, --, /bin/true]"), 90 + 9 + 5);
  t.equal(await deadline("[job, compact]", PROBE_CONFIG), 20 * 60 + 30 + 30 + 5, "jobs.compact: timeout 20m, on_failure_timeout 30s, grace 30s");
  t.equal(await deadline("[job, compact, --timeout, 1m]", PROBE_CONFIG), 60 + 30 + 30 + 5, "the command's --timeout wins");
});

t.test("boxinit as the book's entrypoint, then job NAME", async (t) => {
  const book = await bookOfText('name: nightly\nhome: /srv/n\nentrypoint: [/sbin/boxinit]\ncommand: [job, nightly, --timeout, 5m, --, sh, -c, "exit 3"]\nkube: {schedule: "0 3 * * *", volumes: host}');
  const { objects } = await manifestsOf(book, undefined);
  for (const object of objects) validateObject(object);
  t.strictSame(podOf(objects).containers[0].command, ["/sbin/boxinit"]);
  t.equal(objectOf(objects, "CronJob").spec.jobTemplate.spec.activeDeadlineSeconds, 300 + 9 + 5);
});

t.test("a batch book that is not a boxinit job run is refused", async (t) => {
  const hint = "a batch book's command is `job NAME [--timeout D] [-- CMD ...]` (boxinit's job harness: its lock and failure report), after boxinit as the entrypoint";
  t.strictSame(await errorsOf(await batch("[/opt/reindex.sh]")), [`command: expected ${hint}, got ["/opt/reindex.sh"]`]);
  t.strictSame(await errorsOf(await batch("[job]")), [`command: expected ${hint}, got ["job"]`]);
  t.strictSame(await errorsOf(await batch("[job, --timeout, 1m]")), [`command: expected ${hint}, got ["job","--timeout","1m"]`]);
  const other = await bookOfText('name: n\nhome: /srv/n\nentrypoint: [/usr/bin/env]\ncommand: [job, x, --timeout, 1m]\nkube: {schedule: "@daily"}');
  t.strictSame(await errorsOf(other), [`command: expected ${hint}, got ["/usr/bin/env","job","x","--timeout","1m"]`]);
});

t.test("a batch book without a timeout is refused: a run that never ends would hold every later one", async (t) => {
  t.strictSame(await errorsOf(await batch("[job, x, --, /bin/true]")), [
    "command: job x: expected a timeout (--timeout D in the command, or timeout: in the box config's jobs.x), got none: activeDeadlineSeconds comes from it, and a run that never ends would hold every later one (concurrencyPolicy Forbid)",
  ]);
  t.match(await errorsOf(await batch("[job, x, --timeout, soon, --, /bin/true]")), [/got "soon"/]);
});

t.test("kube.starting_deadline and a refused stop_timeout, all problems at once", async (t) => {
  const book = await batch("[job, x, --timeout, 1m]", '{schedule: "@hourly", starting_deadline: 2m}');
  t.equal(objectOf((await manifestsOf(book, undefined)).objects, "CronJob").spec.startingDeadlineSeconds, 120);
  const both = await batch("[/opt/x]", '{schedule: "@hourly"}', "stop_timeout: 3s");
  t.equal((await errorsOf(both)).length, 2);
});

// Batch jobs in real containers: `docker run IMAGE boxinit job NAME -- CMD`
// runs the job once under one PID 1 (the inner `boxinit` word is dropped, no
// nested init), a failure leaves its report in the host's bind-mounted logs/
// with the seed's name, backoff engaged runs nothing, and `docker stop` during
// a run stops the job within the grace period and keeps its report.
import t from "tap";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_IMAGE, CONFLUENCE_IMAGE, makeHostStateDir, requireDocker, runToEnd, startContainer } from "../helpers/docker.ts";

const REPORT = (name: string, code: number, host: string): RegExp =>
  new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ-cron-failure-${name}-exit-${code}-${host}$`);

const reportsIn = (dir: string): string[] => {
  try {
    return readdirSync(join(dir, "logs"));
  } catch {
    return [];
  }
};

t.test("boxinit job in a container", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE, CONFLUENCE_IMAGE]))) return;

  await t.test("a failing job: exit code kept, report in the host's logs/, one PID 1", async (t) => {
    const state = makeHostStateDir(t);
    const { code, logs } = await runToEnd(t, "job-fail", {
      image: BASE_IMAGE,
      options: ["--no-healthcheck", "--hostname", "web01", "-e", "ONLY_IN_DOCKER=from-docker-run", ...state.mount],
      command: ["boxinit", "job", "nightly", "--", "sh", "-c", 'echo "env: $ONLY_IN_DOCKER"; ps -e -o pid=,comm=; echo "disk full" >&2; exit 3'],
    });
    t.equal(code, 3, "docker wait gives the job's exit code");
    const reports = reportsIn(state.path);
    t.equal(reports.length, 1, `one report: ${reports.join(", ")}`);
    t.match(reports[0], REPORT("nightly", 3, "web01"), "the seed's name, with the container's hostname");
    const report = readFileSync(join(state.path, "logs", reports[0]!), "utf8");
    t.match(report, /^# boxinit job failure report\njob: nightly\n/);
    t.match(report, /result: exit 3\n/);
    t.match(report, /env: from-docker-run\n/, "the job saw the container's environment");
    t.match(report, /disk full\n/, "stderr is captured too");
    const boxinits = report.split("\n").filter((line) => /^\s*\d+ boxinit$/.test(line));
    t.same(boxinits.map((line) => line.trim()), ["1 boxinit"], "exactly one boxinit, and it is PID 1");
    t.match(logs, /env: from-docker-run/, "the output also passed through to docker logs");
    const job = state.statusJson()?.jobs?.nightly;
    t.equal(job?.lastExit, 3);
    t.equal(job?.lastResult, "failed");
    t.equal(job?.logFile, `logs/${reports[0]}`);
  });

  await t.test("a job that succeeds leaves no report", async (t) => {
    const state = makeHostStateDir(t);
    const { code } = await runToEnd(t, "job-ok", {
      image: BASE_IMAGE,
      options: ["--no-healthcheck", ...state.mount],
      command: ["boxinit", "job", "nightly", "--", "true"],
    });
    t.equal(code, 0);
    t.same(reportsIn(state.path), []);
    t.equal(state.statusJson()?.jobs?.nightly?.lastResult, "ok");
  });

  await t.test("backoff engaged on the host: the job does not run, exit 0", async (t) => {
    const state = makeHostStateDir(t);
    state.write("backoff", "true\n");
    const { code, logs } = await runToEnd(t, "job-backoff", {
      image: BASE_IMAGE,
      options: ["--no-healthcheck", ...state.mount],
      command: ["boxinit", "job", "nightly", "--", "sh", "-c", "echo JOB-RAN; exit 1"],
    });
    t.equal(code, 0);
    t.notMatch(logs, /JOB-RAN/, "the command never ran");
    t.match(logs, /job-skipped: job nightly not run: backoff engaged/);
    t.same(reportsIn(state.path), []);
  });

  await t.test("in the Confluence image: the job runs, the configured services do not start", async (t) => {
    const state = makeHostStateDir(t);
    const { code, logs } = await runToEnd(t, "job-confluence", {
      image: CONFLUENCE_IMAGE,
      options: ["--no-healthcheck", "--hostname", "cf01", ...state.mount],
      command: ["boxinit", "job", "reindex", "--", "sh", "-c", "echo reindexing; exit 2"],
    });
    t.equal(code, 2);
    t.notMatch(logs, /start-confluence|init-script/, "no service, no init script");
    t.match(reportsIn(state.path)[0] ?? "", REPORT("reindex", 2, "cf01"));
  });

  await t.test("docker stop during a run: the job gets SIGTERM, exit 143, its report is kept", async (t) => {
    const state = makeHostStateDir(t);
    const box = await startContainer(t, "job-stop", {
      image: BASE_IMAGE,
      options: ["--no-healthcheck", "--hostname", "web02", ...state.mount],
      command: ["boxinit", "job", "long", "--", "sh", "-c", "echo started; exec sleep 600"],
    });
    const deadline = Date.now() + 20_000;
    while (!/started/.test(await box.logs())) {
      if (Date.now() > deadline) throw new Error("the job never started");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await box.stop(30);
    t.equal(await box.wait(), 143, "128 + SIGTERM, from the job, not Docker's SIGKILL");
    const reports = reportsIn(state.path);
    t.match(reports[0] ?? "", REPORT("long", 143, "web02"));
    t.match(readFileSync(join(state.path, "logs", reports[0]!), "utf8"), /result: killed by SIGTERM \(exit 143\)/);
    t.equal(state.statusJson()?.jobs?.long?.lastSignal, "SIGTERM");
  });
});

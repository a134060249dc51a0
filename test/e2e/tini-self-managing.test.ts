// A plain `docker run IMAGE CMD` of the base image (no config, its /docker
// bind-mounted from the host) is self-managing (issue 14): the host sees
// `running`, Docker's health check (the image's own `boxinit health`) turns
// healthy, and backoff written from the host stops the command with SIGTERM,
// `backedoff`, the container exiting with the command's code. Then the same
// through the host tool: `host status` and `host backoff on --wait`.
import t from "tap";
import { spawnSync } from "node:child_process";
import { BASE_IMAGE, makeHostStateDir, requireDocker, startContainer } from "../helpers/docker.ts";
import { makeBook, waitExit } from "../helpers/host.ts";
import { BOXINIT } from "../helpers/boxinit.ts";

// Ends with 7 on SIGTERM and says so; its sleep is in the same process group.
const EXIT_7_ON_TERM = ["sh", "-c", "trap 'echo got-TERM; exit 7' TERM; echo ready; sleep 1000 & wait"];

// Small values so the test waits on the first checks, not on the image's 30 s interval.
const FAST_HEALTH = ["--health-interval", "300ms", "--health-start-period", "1s", "--health-timeout", "5s"];

t.test("docker run IMAGE CMD with /docker mounted: running, healthy, backoff from the host", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;
  const state = makeHostStateDir(t);
  const box = await startContainer(t, "tini-self", { image: BASE_IMAGE, options: [...FAST_HEALTH, ...state.mount], command: EXIT_7_ON_TERM });

  await state.waitForStatus("running");
  const json = state.statusJson()!;
  t.equal(json.state, "running", "status.json on the host says running");
  t.equal(json.pid, 1, "written by the container's PID 1");
  t.equal(json.backoff, false);
  const host = spawnSync(BOXINIT, ["status", "--state-dir", state.path], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: undefined } });
  t.equal(host.status, 0, "boxinit status on the host");
  t.match(host.stdout, /^state: +running since /m);

  const healthy = await box.waitForInspect((inspected) => inspected.State.Health?.Status === "healthy", "Docker health healthy");
  t.equal(healthy.State.Health.Status, "healthy", "the image's HEALTHCHECK passes without --no-healthcheck");
  t.match(healthy.State.Health.Log.at(-1)?.Output ?? "", /^healthy: running/, "boxinit health said why");

  state.write("backoff", "true\n");
  t.equal(await box.wait(), 7, "the container exits with the command's code");
  const logs = await box.logs();
  t.match(logs, /^got-TERM$/m, "the command got SIGTERM");
  t.match(logs, /self-managing: status written and backoff followed here dir=\/docker/);
  t.notMatch(logs, /Mini-VM mode/);
  const ended = state.statusJson()!;
  t.equal(ended.state, "backedoff");
  t.equal(ended.exitCode, 7);
  t.equal(state.status(), "backedoff");
});

t.test("the host tool on a tini-style box: host status, host backoff on --wait", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;
  const book = makeBook(t, `command: ${JSON.stringify(EXIT_7_ON_TERM)}`);
  await book.tag(BASE_IMAGE, "run");
  const run = await book.host("run");
  t.equal(run.code, 0, run.stderr);
  await book.waitForStatus("running");

  const status = JSON.parse((await book.host("status", "--json")).stdout);
  t.equal(status.container.isRunning, true);
  t.equal(status.stateDir.status, "running");
  t.equal(status.stateDir.statusJson.state, "running");
  t.equal(status.stateDir.isStale, false);
  t.equal(status.stateDir.ready?.isHealthy, true, "health --ready would pass");
  t.equal(status.stateDir.live?.isHealthy, true, "health --live would pass");

  const backoff = await book.host("backoff", "on", "--wait", "--timeout", "60s");
  t.equal(backoff.code, 0, backoff.stderr);
  t.match(backoff.stdout, new RegExp(`${book.container}: status backedoff after `));
  t.equal(await waitExit(book.container), 7, "the command's code");
  t.equal(book.statusJson()?.exitCode, 7);
});

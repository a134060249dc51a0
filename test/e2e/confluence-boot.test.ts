// The boot seen from the host: status `starting`/`warming` while the stand-in
// "JVM" takes its time, `running` once http://localhost:8090/confluence
// answers, and Docker's health check (boxinit health) turns healthy.
import t from "tap";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CONFLUENCE_IMAGE, dockerOk, makeHostStateDir, requireDocker, startContainer } from "../helpers/docker.ts";

t.test("status and health during boot", async (t) => {
  if (!(await requireDocker(t, [CONFLUENCE_IMAGE]))) return;
  const state = makeHostStateDir(t);
  const box = await startContainer(t, "boot", {
    image: CONFLUENCE_IMAGE,
    // The image checks every 30 s; a test cannot wait that long.
    options: [...state.mount, "-e", "STANDIN_WARMUP_MS=2500", "--health-interval", "500ms", "--health-timeout", "5s"],
  });
  const seen = await state.waitForStatus(["warming", "running", "failed", "stopped"]);
  t.equal(seen.at(-1), "warming", `warming while the server does not answer yet (saw ${seen.join(" -> ")})`);
  t.ok(["starting", "warming"].includes(seen[0]!), "the first word is starting or warming");
  const early = await box.inspect();
  t.not(early.State.Health?.Status, "healthy", "not healthy while warming");
  const exec = await box.exec(["boxinit", "health"]);
  t.equal(exec.code, 1, `boxinit health says unhealthy while warming: ${exec.stdout.trim()}`);

  const all = [...seen, ...(await state.waitForStatus(["running", "failed", "stopped"]))];
  t.equal(all.at(-1), "running", `then running (saw ${all.join(" -> ")})`);
  const json = state.statusJson();
  t.equal(json?.services?.confluence?.state, "running");
  t.ok(json?.services?.confluence?.readyAt, "readyAt is set");
  t.ok(existsSync(join(state.path, "server.xml")), "init.d/10-server-xml seeded /docker/server.xml");

  const inspected = await box.waitForInspect((doc) => doc.State.Health?.Status === "healthy", "health status healthy");
  const last = inspected.State.Health.Log.at(-1);
  t.equal(last.ExitCode, 0);
  t.match(last.Output, /healthy: running/, "the health log holds boxinit health's verdict");
});

t.test("a container killed and started again: the image removes the stale catalina.pid, the box comes up", async (t) => {
  if (!(await requireDocker(t, [CONFLUENCE_IMAGE]))) return;
  const state = makeHostStateDir(t);
  const box = await startContainer(t, "restart", { image: CONFLUENCE_IMAGE, options: [...state.mount, "-e", "STANDIN_WARMUP_MS=200"] });
  t.equal((await state.waitForStatus(["running", "failed", "stopped"])).at(-1), "running");
  const firstSince = state.statusJson()?.since;
  // SIGKILL to PID 1: nothing stops the app, its catalina.pid stays in the container's file system.
  await dockerOk(["kill", "--signal", "KILL", box.id]);
  await box.wait();
  const pidfile = "/opt/atlassian/confluence/work/catalina.pid";
  await dockerOk(["start", box.id]);
  // The state directory still says running from the first run: wait for the second run's own log line.
  const deadline = Date.now() + 60_000;
  let logs = "";
  while (!/05-stale-catalina-pid: removed/.test(logs) && Date.now() < deadline) {
    logs = await box.logs();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.match(logs, new RegExp(`05-stale-catalina-pid: removed ${pidfile} left by the previous run of this container`), "the first run's pidfile was removed by the image before any service");
  const inspected = await box.waitForInspect((doc) => doc.State.Running === true && doc.State.Pid > 0, "running again");
  t.ok(inspected.State.Running);
  // The first run's `running` is still on disk: the second run's has a later `since`.
  const upAgain = Date.now() + 60_000;
  while (!(state.statusJson()?.state === "running" && state.statusJson()?.since !== firstSince) && Date.now() < upAgain) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(state.statusJson()?.state, "running", "and the box came up again");
  t.not(state.statusJson()?.since, firstSince, "in the second run");
});

// The boot seen from the host: status `starting`/`warming` while the stand-in
// "JVM" takes its time, `running` once http://localhost:8090/confluence
// answers, and Docker's health check (boxinit health) turns healthy.
import t from "tap";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CONFLUENCE_IMAGE, makeHostStateDir, requireDocker, startContainer } from "../helpers/docker.ts";

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

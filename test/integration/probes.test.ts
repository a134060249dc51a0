// probe.port on the built binary, as PID 1 and as subreaper: PID 1 itself
// answers GET /livez and /readyz (a kubelet httpGet probe spawns nothing),
// with the same verdicts as `boxinit health --live|--ready`: ready only in
// `running`, live also while idle in backoff. A port already taken fails the
// boot before anything starts: exit 69, status failed.
import t from "tap";
import { connect, createServer } from "node:net";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { freePort, makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

/** One GET over a fresh connection: [status code, body]. */
const get = (port: number, path: string): Promise<[number, string]> =>
  new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => { text += chunk; });
    socket.on("error", reject);
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve([status, text.slice(text.indexOf("\r\n\r\n") + 4)]);
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n`);
  });

const config = (port: number, backoff: string) => `heartbeat: 1s
grace: 5s
backoff: { on_engage: idle, watch: inotify }
probe: { port: ${port} }
services:
  app:
    command: "echo app-up; exec sleep 1000"
${backoff}`;

for (const mode of MODES) {
  t.test(`${mode}: probes answered by PID 1`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("running: both pass; idle in backoff: live passes, ready fails; released: ready again", async (t) => {
      const port = await freePort();
      const box = makeBox(t, config(port, ""));
      const run = startBoxinit(mode, box.args);
      t.teardown(() => run.kill());
      await box.waitForStatus("running");
      t.same(await get(port, "/readyz"), [200, "ready: running\n"]);
      t.same(await get(port, "/livez"), [200, "live: running\n"]);
      t.equal((await get(port, "/metrics"))[0], 404, "other paths: 404");

      box.setBackoff("true\n");
      await box.waitForStatus("backedoff");
      const [readyCode, readyBody] = await get(port, "/readyz");
      t.equal(readyCode, 503, "ready fails while idle");
      t.match(readyBody, /^not ready: state is backedoff/);
      t.same(await get(port, "/livez"), [200, "live: backedoff\n"], "live passes: PID 1 still manages the box");

      box.setBackoff("false\n");
      await box.waitForStatus("running");
      t.same(await get(port, "/readyz"), [200, "ready: running\n"], "ready again after the release");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      await t.rejects(get(port, "/livez"), "nothing listens once boxinit has exited");
    });

    await t.test("a port already taken: the boot fails before anything starts, exit 69, status failed", async (t) => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "0.0.0.0", resolve));
      t.teardown(() => taken.close());
      const port = (taken.address() as { port: number }).port;
      const box = makeBox(t, config(port, ""));
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 69);
      t.match(result.stderr, new RegExp(`probe server: cannot listen on .*${port}`));
      t.notMatch(result.stdout, /app-up/, "the service never started");
      t.equal(box.statusJson()?.state, "failed");
    });
  });
}

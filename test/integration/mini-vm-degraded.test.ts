// Mini-VM mode, a booted box whose critical service is down: the state is
// `degraded` (status, status.json, boxinit status) while the service waits for
// its restart or warms up again, `boxinit health` (--ready) fails and
// `health --live` passes; once the service is back, `running` and healthy.
// Waits follow status.json; the service's warm-up is held on a file, so the
// box stays degraded until the test lets it come back.
import t from "tap";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BOXINIT, MODES, killAllRuns, missingPrerequisite, sleep, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox, waitForJson, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

/** A side command of the same binary, run beside PID 1 on the box's state directory. */
const tool = (box: Box, args: readonly string[]): { code: number | null; stdout: string; stderr: string } => {
  const result = spawnSync(BOXINIT, [...args, "--state-dir", box.stateDir], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: undefined }, timeout: 10_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};


// The app: counts its starts in BOX/starts, says so, and kills itself with
// SIGKILL once BOX/kill appears (removing it first, so its restart lives on).
const APP = `#!/bin/sh
n=$(($(cat BOX/starts 2>/dev/null || echo 0) + 1))
echo "$n" > BOX/starts
echo "started $n"
while :; do
  if [ -e BOX/kill ]; then rm -f BOX/kill; kill -KILL $$; fi
  sleep 0.02
done
`;

const appBox = (t: Parameters<typeof makeBox>[0], restartDelay: string): Box => {
  const box = makeBox(t, [
    "services:",
    "  app:",
    "    command: [BOX/app.sh]",
    "    restart: on-failure",
    `    restart_delay: ${restartDelay}`,
    "    warmup: {command: [test, -e, BOX/up], interval: 20ms, timeout: 1m}",
    "",
  ].join("\n"));
  box.script("app.sh", APP.replaceAll("BOX", box.dir));
  writeFileSync(join(box.dir, "up"), "");
  return box;
};

for (const mode of MODES) {
  t.test(`${mode}: a critical service down after boot makes the box degraded`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("killed: degraded, health 1, health --live 0; back: running, health 0", async (t) => {
      const box = appBox(t, "1s");
      const run = startBoxinit(mode, box.args);
      await box.waitForStatus("running");
      t.equal(tool(box, ["health"]).code, 0, "running: healthy");
      t.equal(tool(box, ["health", "--live"]).code, 0, "running: live");

      // Its warm-up now waits for BOX/up: the restart cannot end the degraded state before the test says so.
      rmSync(join(box.dir, "up"));
      writeFileSync(join(box.dir, "kill"), "");
      const degraded = await waitForJson(box, (json) => json.state === "degraded", "state degraded");
      t.equal(degraded.services.app.lastExit?.signal, "SIGKILL", "the service died of SIGKILL");
      // status.json is replaced first, then the one-word status.
      await box.waitForStatus("degraded");
      t.pass("the one-word status says degraded");
      await run.waitFor(/state degraded.*down=/, "stderr");
      t.pass("the log says so, naming the service that is down");

      const ready = tool(box, ["health"]);
      t.equal(ready.code, 1, "health (--ready by default): unhealthy while degraded");
      t.match(ready.stdout, /^unhealthy: state is degraded, not running: down: app \((restarting|starting|warming)\)\n$/);
      t.equal(tool(box, ["health", "--ready"]).code, 1, "health --ready: unhealthy");
      const live = tool(box, ["health", "--live"]);
      t.equal(live.code, 0, "health --live: PID 1 is alive and managing");
      t.match(live.stdout, /^live: degraded, updated \d+s ago\n$/);
      const status = tool(box, ["status"]);
      t.equal(status.code, 0);
      t.match(status.stdout, /^state: {5}degraded since /);

      // The restart comes after its delay and warms up until BOX/up is back.
      await waitForJson(box, (json) => json.services?.app?.state === "warming" && json.services.app.restarts === 1, "app warming up again");
      t.equal(box.status(), "degraded", "still degraded while the critical service warms up again");
      writeFileSync(join(box.dir, "up"), "");
      const back = await waitForJson(box, (json) => json.state === "running", "state running again");
      t.match(back.services.app, { state: "running", restarts: 1 });
      t.equal(tool(box, ["health"]).code, 0, "healthy again");
      t.equal(tool(box, ["health", "--live"]).code, 0);
      // The status file is written at once; the log line reaches this test through a pipe.
      await run.waitFor(/state running[\s\S]*state degraded[\s\S]*state running/, "stderr");
      t.pass("running → degraded → running in the log");

      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.equal(box.status(), "stopped");
      t.equal(tool(box, ["health", "--live"]).code, 1, "ended: not live");
    });

    await t.test("waiting for a long restart delay: degraded until a stop, which does not wait for it", async (t) => {
      const box = appBox(t, "1h");
      const run = startBoxinit(mode, box.args);
      await box.waitForStatus("running");
      writeFileSync(join(box.dir, "kill"), "");
      const degraded = await waitForJson(box, (json) => json.state === "degraded", "state degraded");
      t.match(degraded.services.app, { state: "restarting", pid: null, restarts: 0 }, "the only service waits for its restart");
      t.equal(tool(box, ["health"]).code, 1, "not ready");
      t.equal(tool(box, ["health", "--live"]).code, 0, "live");
      await run.signal("SIGTERM");
      // A minute is nothing next to the hour's delay, and plenty on a loaded machine.
      const ended = await run.result(60_000);
      t.equal(ended.code, 0, "a requested stop while degraded ends cleanly");
      t.equal(box.status(), "stopped");
      const live = tool(box, ["health", "--live"]);
      t.equal(live.code, 1);
      t.match(live.stdout, /^not live: boxinit has ended: state stopped, exit code 0\n$/);
    });
  });
}

// `docker stop` of the Confluence image (built from the stand-in): the stop
// script runs, the container exits with its code inside boxinit's budget, and
// the host's bind-mounted state directory says `stopped`. An app that ignores
// SIGTERM is killed at boxinit's deadline, not by Docker's stop timeout.
import t from "tap";
import { CONFLUENCE_IMAGE, makeHostStateDir, requireDocker, startContainer, type DockerEvent } from "../helpers/docker.ts";

// Docker's own timestamps: from its SIGTERM (`docker stop`) to the container's death.
const stopDurationMs = (events: readonly DockerEvent[]): { ms: number; dockerKilled: boolean } => {
  const term = events.find((event) => event.action === "kill" && event.attributes.signal === "15");
  const die = events.find((event) => event.action === "die");
  if (!term || !die) throw new Error(`no kill(15)/die events: ${JSON.stringify(events)}`);
  const dockerKilled = events.some((event) => event.action === "kill" && event.attributes.signal === "9");
  return { ms: die.timeMs - term.timeMs, dockerKilled };
};

t.test("docker stop of the confluence stand-in", async (t) => {
  if (!(await requireDocker(t, [CONFLUENCE_IMAGE]))) return;

  await t.test("the stop script runs, exit code 0, status stopped on the host", async (t) => {
    const state = makeHostStateDir(t);
    const box = await startContainer(t, "stop", { image: CONFLUENCE_IMAGE, options: state.mount });
    await state.waitForStatus("running");
    // Docker would SIGKILL after 30 s; boxinit must be done long before.
    await box.stop(30);
    const code = await box.wait();
    t.equal(code, 0, "the stop script's exit code");
    const logs = await box.logs();
    t.match(logs, /stop-confluence\.sh \(stand-in\): stopping pid \d+/, "stop-confluence.sh ran");
    t.match(logs, /stop-confluence\.sh \(stand-in\): stopped/, "and saw the server end");
    t.match(logs, /standin-httpd\[\d+\]: SIGTERM: stopping/, "the server got SIGTERM from the stop script");
    t.equal(state.status(), "stopped", "host-side status");
    t.equal(state.statusJson()?.exitCode, 0, "status.json exitCode");
    const { ms, dockerKilled } = stopDurationMs(await box.events());
    t.notOk(dockerKilled, "Docker never had to SIGKILL");
    // boxinit's own verdict on its budget; how long a stop takes is bench/'s to measure.
    t.notMatch(logs, /phase-overran|killed: /, `nothing overran the 9 s budget or had to be killed (the stop took ${ms} ms)`);
  });

  await t.test("an app that ignores SIGTERM is killed at boxinit's deadline, not Docker's", async (t) => {
    const state = makeHostStateDir(t);
    const box = await startContainer(t, "ignore-term", {
      image: CONFLUENCE_IMAGE,
      options: [...state.mount, "-e", "STANDIN_IGNORE_TERM=1", "-e", "BOXINIT_GRACE=3s"],
    });
    await state.waitForStatus("running");
    await box.stop(30);
    const code = await box.wait();
    t.equal(code, 137, "137: something had to be killed (README: exit codes)");
    const logs = await box.logs();
    t.match(logs, /phase-overran: .*service confluence/, "the log names the phase that overran");
    t.match(logs, /killed: sent SIGKILL phase=services service=confluence pid=\d+ comm=standin-httpd/, "and what was killed");
    t.equal(state.status(), "stopped");
    const { ms, dockerKilled } = stopDurationMs(await box.events());
    t.notOk(dockerKilled, "Docker's own SIGKILL (after 30 s) never came");
    // The services get grace minus min(2 s, grace/4) = 2.25 s; Docker would wait 30 s.
    // A lower bound holds on a loaded machine; how close to the deadline it ends is bench/deadline.sh's.
    t.ok(ms >= 2000, `the app had its share of the 3 s grace (took ${ms} ms)`);
  });
});

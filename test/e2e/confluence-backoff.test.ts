// Backoff from the host through the bind-mounted state directory: `true`
// written while the stand-in runs stops it with its stop script, status
// `backedoff`, the stop script's exit code; engaged before `docker run`,
// nothing starts at all.
import t from "tap";
import { CONFLUENCE_IMAGE, makeHostStateDir, requireDocker, startContainer } from "../helpers/docker.ts";

t.test("backoff from the host", async (t) => {
  if (!(await requireDocker(t, [CONFLUENCE_IMAGE]))) return;

  await t.test("echo true > HOSTDIR/backoff while running: backedoff, exit code = the stop script's", async (t) => {
    const state = makeHostStateDir(t);
    const box = await startContainer(t, "backoff", {
      image: CONFLUENCE_IMAGE,
      options: [...state.mount, "-e", "STANDIN_STOP_EXIT=3"],
    });
    await state.waitForStatus("running");
    state.write("backoff", "true\n");
    const seen = await state.waitForStatus(["backedoff", "stopped", "failed"], 15_000);
    t.equal(seen.at(-1), "backedoff", `host-side status went ${seen.join(" -> ")}`);
    t.equal(await box.wait(), 3, "the container's exit code is the stop script's");
    const json = state.statusJson();
    t.equal(json?.state, "backedoff");
    t.equal(json?.backoff, true);
    t.equal(json?.exitCode, 3);
    t.match(await box.logs(), /stop-confluence\.sh \(stand-in\): stopping pid \d+ \(exit code will be 3\)/);
  });

  await t.test("backoff engaged before docker run: nothing starts, exit 0", async (t) => {
    const state = makeHostStateDir(t);
    state.write("backoff", "true\n");
    const box = await startContainer(t, "backoff-early", { image: CONFLUENCE_IMAGE, options: state.mount });
    t.equal(await box.wait(), 0);
    t.equal(state.status(), "backedoff");
    const logs = await box.logs();
    t.notMatch(logs, /init-script|start-confluence|spawned/, "no init script, no service was started");
    t.equal(state.statusJson()?.services?.confluence?.pid ?? null, null, "the service never had a pid");
  });
});

// A read-only root filesystem: only a tmpfs /run and the bind-mounted state
// directory are writable. Mini-VM mode runs, writes its status, and stops
// cleanly, as root and as an unnamed uid (--user 1000); the addon loads from
// /usr/lib/boxinit without any writable, exec-capable directory.
import t from "tap";
import { statSync } from "node:fs";
import { join } from "node:path";
import { BASE_IMAGE, makeHostConfigDir, makeHostStateDir, requireDocker, startContainer } from "../helpers/docker.ts";

const CONFIG = [
  "services:",
  "  app:",
  "    command: [/bin/sh, -c, 'echo app-up as $(id -u); exec /bin/sleep 100000']",
  "    warmup: {command: [/bin/true], interval: 200ms}",
  "",
].join("\n");

for (const user of [undefined, 1000] as const) {
  t.test(`--read-only as ${user === undefined ? "root" : `--user ${user}`}`, async (t) => {
    if (!(await requireDocker(t, [BASE_IMAGE]))) return;
    const config = makeHostConfigDir(t, { "boxinit.yaml": CONFIG });
    const state = makeHostStateDir(t, user === undefined ? {} : { uid: user });
    const box = await startContainer(t, `read-only-${user ?? "root"}`, {
      image: BASE_IMAGE,
      options: [
        "--read-only", "--tmpfs", "/run", ...state.mount, "-v", `${config}:/etc/boxinit:ro`,
        ...(user === undefined ? [] : ["--user", String(user)]),
      ],
      command: ["-v"],
    });
    await state.waitForStatus("running");
    t.equal(statSync(join(state.path, "status")).uid, user ?? 0, "the status file was written by the container's user");
    const status = await box.exec(["boxinit", "status"]);
    t.equal(status.code, 0);
    t.match(status.stdout, /state:\s+running/);
    await box.stop(30);
    t.equal(await box.wait(), 0, "stopped in time: exit 0");
    t.equal(state.status(), "stopped");
    const logs = await box.logs();
    t.match(logs, new RegExp(`app-up as ${user ?? 0}`));
    t.match(logs, /addon: native addon loaded from=\/usr\/lib\/boxinit\/boxinit\.node/, "the installed addon loaded");
    t.notMatch(logs, /warning|error/, "no warning: nothing needed a writable root");
  });
}

// log_files: in a real container, read from the host: the service's output
// lands in the bind-mounted state directory's logs/services/app.log (rotated,
// 0755/0644, written by the container's uid), `boxinit logs --state-dir` on the
// host and `docker exec ... boxinit logs` inside print the same tail, and the
// file outlives the container. Needs the relay's copyTo hook wired to
// log/log-file.ts (issue 18).
import t from "tap";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { boxinitTool } from "../helpers/boxinit.ts";
import { BASE_IMAGE, docker, makeHostConfigDir, makeHostStateDir, requireDocker, startContainer } from "../helpers/docker.ts";
import { waitFor } from "../helpers/wait-for.ts";

const CONFIG = [
  "log_files: { max_size: 8KiB, keep: 2 }",
  "services:",
  "  app:",
  `    command: [/bin/sh, -c, 'i=0; while [ $i -lt 1000 ]; do echo "app line $i"; i=$((i+1)); done; echo app-oops >&2; echo app-done; exec /bin/sleep 100000']`,
  "",
].join("\n");

const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (out|err) (.*)$/;

for (const user of [undefined, 1000] as const) {
  t.test(`a service's log file in the host's state directory (${user === undefined ? "root" : `--user ${user}`})`, async (t) => {
    if (!(await requireDocker(t, [BASE_IMAGE]))) return;
    const config = makeHostConfigDir(t, { "boxinit.yaml": CONFIG });
    const state = makeHostStateDir(t, user === undefined ? {} : { uid: user });
    const box = await startContainer(t, `log-files-${user ?? "root"}`, {
      image: BASE_IMAGE,
      options: [...state.mount, "-v", `${config}:/etc/boxinit:ro`, ...(user === undefined ? [] : ["--user", String(user)])],
    });
    const dir = join(state.path, "logs", "services");
    await waitFor("app-done in the host's app.log", () => existsSync(join(dir, "app.log")) && readFileSync(join(dir, "app.log"), "utf8").includes("out app-done"), 30_000, 50);
    t.equal(statSync(dir).mode & 0o777, 0o755);
    t.equal(statSync(join(dir, "app.log")).mode & 0o777, 0o644);
    t.equal(statSync(join(dir, "app.log")).uid, user ?? 0, "written by the container's uid");
    t.same(readdirSync(dir).sort(), ["app.log", "app.log.1", "app.log.2"], "rotated, two old files kept");

    const fromHost = boxinitTool(["logs", "--state-dir", state.path, "app", "-n", "3"]);
    t.equal(fromHost.code, 0, fromHost.stderr);
    // stdout and stderr come through two pipes: their order against each other is the reader's, not the writer's.
    const tail = fromHost.stdout.split("\n").slice(0, -1).map((line) => STAMPED.exec(line)?.slice(1).join(" "));
    t.same([...tail].sort(), ["err app-oops", "out app line 999", "out app-done"]);
    t.ok(tail.indexOf("out app line 999") < tail.indexOf("out app-done"), "stdout in order");
    const inside = await box.exec(["boxinit", "logs", "app", "-n", "3"]);
    t.equal(inside.code, 0, inside.stderr);
    t.equal(inside.stdout, fromHost.stdout, "the same lines inside the container");
    // app.log was seen, but Docker copies the container's output on its own time: wait for the line.
    t.match(await box.waitForLogs([/app line 999\n/]), /app line 999\n/, "docker logs still has the output");

    await box.stop(30);
    await docker(["rm", "--force", box.id]);
    const afterRemoval = boxinitTool(["logs", "--state-dir", state.path, "app", "-n", "3"]);
    t.equal(afterRemoval.stdout, fromHost.stdout, "the log outlives the container");
  });
}

// The base image keeps the directories Debian's packages expect (issue 12,
// bug 5): a user's own `FROM boxinit/base` image installs a Java runtime with
// a plain `apt-get install`, no `mkdir -p /usr/share/man/man1` first. The
// build reaches Debian's apt the way `make image` does (--network host).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { BASE_IMAGE, docker, dockerOk, requireDocker, runToEnd, uniqueName } from "../helpers/docker.ts";

// apt downloads about 45 MB and sets up the JRE: a bound for a stuck build.
const BUILD_TIMEOUT_MS = 10 * 60_000;

t.test("packages on FROM boxinit/base", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;

  await t.test("the man page directories the slim image lacks are there", async (t) => {
    const { code, logs } = await runToEnd(t, "man-dirs", {
      image: BASE_IMAGE,
      command: ["sh", "-c", "for s in 1 2 3 4 5 6 7 8; do test -d /usr/share/man/man$s || { echo missing man$s; exit 1; }; done; echo man-dirs-ok"],
    });
    t.equal(code, 0, logs);
    t.match(logs, /man-dirs-ok/);
  });

  await t.test("apt-get install openjdk-17-jre-headless works without a workaround", async (t) => {
    const context = mkdtempSync(join(tmpdir(), "boxinit-e2e-jre-"));
    t.teardown(() => rmSync(context, { recursive: true, force: true }));
    writeFileSync(join(context, "Dockerfile"), [
      `FROM ${BASE_IMAGE}`,
      "RUN apt-get update \\",
      " && apt-get install -y --no-install-recommends openjdk-17-jre-headless \\",
      " && rm -rf /var/lib/apt/lists/*",
      "",
    ].join("\n"));
    const tag = `boxinit-e2e/${uniqueName("jre")}:latest`;
    t.teardown(async () => {
      await docker(["image", "rm", "--force", tag]);
    });
    const build = await docker(["build", "--network", "host", "--force-rm", "-q", "-t", tag, context], BUILD_TIMEOUT_MS);
    const buildTail = build.code === 0 ? "" : `: exit ${build.code}\n${(build.stdout + build.stderr).split("\n").slice(-20).join("\n")}`;
    t.equal(build.code, 0, `docker build of a JRE on ${BASE_IMAGE}${buildTail}`);
    if (build.code !== 0) return;
    const { code, logs } = await runToEnd(t, "java", { image: tag, command: ["java", "-version"] });
    t.equal(code, 0, "java -version exits 0");
    t.match(logs, /openjdk version "17\./, "java runs");
    const alternatives = await dockerOk(["run", "--rm", "--network", "none", "--entrypoint", "readlink", tag, "-f", "/usr/bin/java"]);
    t.match(alternatives.trim(), /^\/usr\/lib\/jvm\/java-17-openjdk-[^/]+\/bin\/java$/, "update-alternatives set up /usr/bin/java");
  });
});

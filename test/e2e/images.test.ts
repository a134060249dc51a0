// What the images are: the base image's entrypoint, health check and
// contents (boxinit, its addon, procps, no build tools), and the Confluence
// image's config as boxinit itself reads it (`boxinit check`).
import t from "tap";
import { BASE_IMAGE, CONFLUENCE_IMAGE, dockerOk, requireDocker, runToEnd } from "../helpers/docker.ts";

t.test("images", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE, CONFLUENCE_IMAGE]))) return;

  await t.test("base: entrypoint, health check, contents", async (t) => {
    const config = JSON.parse(await dockerOk(["image", "inspect", "--format", "{{json .Config}}", BASE_IMAGE]));
    t.same(config.Entrypoint, ["/sbin/boxinit"]);
    t.notOk(config.Cmd, "no CMD: docker run IMAGE starts the configured services");
    t.same(config.Healthcheck.Test, ["CMD", "/sbin/boxinit", "health"]);
    const { code, logs } = await runToEnd(t, "contents", {
      image: BASE_IMAGE,
      command: ["sh", "-c", [
        "test -x /sbin/boxinit && test -f /usr/lib/boxinit/boxinit.node && test -d /docker && command -v ps",
        "for tool in gcc cc g++ make curl wget python3; do if command -v $tool; then echo has-$tool; exit 1; fi; done",
        "echo contents-ok",
      ].join("\n")],
    });
    t.equal(code, 0, logs);
    t.match(logs, /contents-ok/);
  });

  await t.test("base without a config or a command: a usage error, exit 2", async (t) => {
    const { code, logs } = await runToEnd(t, "empty", { image: BASE_IMAGE });
    t.equal(code, 2);
    t.match(logs, /nothing to run/);
  });

  await t.test("confluence: boxinit check accepts the image's config", async (t) => {
    const config = JSON.parse(await dockerOk(["image", "inspect", "--format", "{{json .Config}}", CONFLUENCE_IMAGE]));
    t.same(config.Entrypoint, ["/sbin/boxinit"], "inherited from the base image");
    t.equal(config.Labels?.["boxinit.confluence"], "stand-in", "the tests' image is the stand-in build");
    t.ok("8090/tcp" in (config.ExposedPorts ?? {}));
    const { code, logs } = await runToEnd(t, "check", { image: CONFLUENCE_IMAGE, command: ["check"] });
    t.equal(code, 0, logs);
    t.match(logs, /links:\n\s+\/opt\/atlassian\/confluence\/conf\/server\.xml -> \/docker\/server\.xml/);
    t.match(logs, /pidfile: \/opt\/atlassian\/confluence\/work\/catalina\.pid/);
    t.match(logs, /user: confluence \(uid 2002/);
    t.match(logs, /warm-up: GET http:\/\/localhost:8090\/confluence/);
    t.match(logs, /stop: \/opt\/atlassian\/confluence\/bin\/stop-confluence\.sh/);
  });
});

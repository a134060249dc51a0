// The image side of `boxinit host` on the real engine: promote keeps the
// replaced run image as :previous and rollback swaps them; run --dry-run
// prints a docker run line that creates the same container as run does
// (compared field by field in docker inspect); a missing image is exit 12.
import t from "tap";
import { execFileSync } from "node:child_process";
import { BASE_IMAGE, CONFLUENCE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { inspectContainer, makeBook } from "../helpers/host.ts";

const imageId = (ref: string): string => execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { encoding: "utf8" }).trim();

t.test("host images", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE, CONFLUENCE_IMAGE]))) return;
  const baseId = imageId(BASE_IMAGE);
  const standinId = imageId(CONFLUENCE_IMAGE);

  await t.test("promote: latest becomes run, the old run becomes previous; rollback swaps back and forth", async (t) => {
    const book = makeBook(t);
    const missing = await book.host("promote");
    t.equal(missing.code, 12, "no :latest yet");
    t.match(missing.stderr, new RegExp(`^boxinit host: error: image ${book.repo}:latest not found: nothing to promote; build it first`));

    await book.tag(BASE_IMAGE, "latest");
    t.equal((await book.host("promote")).code, 0);
    t.same([await book.imageId("run"), await book.imageId("previous")], [baseId, undefined], "first promote: nothing to keep");

    const noRollback = await book.host("promote", "--rollback");
    t.equal(noRollback.code, 12, "nothing to roll back to");
    t.match(noRollback.stderr, /:previous not found: nothing to roll back to/);

    await book.tag(CONFLUENCE_IMAGE, "latest");
    const second = await book.host("promote");
    t.equal(second.code, 0, second.stderr);
    t.same([await book.imageId("run"), await book.imageId("previous")], [standinId, baseId], "the replaced run image kept as :previous");

    const same = await book.host("promote");
    t.equal(same.code, 0);
    t.match(same.stdout, /is already .*:latest .*: nothing to do/);
    t.equal(await book.imageId("previous"), baseId, "a promote of the same image keeps :previous");

    t.equal((await book.host("promote", "--rollback")).code, 0);
    t.same([await book.imageId("run"), await book.imageId("previous")], [baseId, standinId], "rollback: run and previous swapped");
    t.equal((await book.host("promote", "--rollback")).code, 0);
    t.same([await book.imageId("run"), await book.imageId("previous")], [standinId, baseId], "a second rollback undoes the first");
    t.equal(await book.imageId("latest"), standinId, ":latest is never moved");
  });

  await t.test("run --dry-run prints the docker run line of exactly what run creates", async (t) => {
    const book = makeBook(t, [
      "hostname: dry01",
      "restart: on-failure:2",
      "stop_timeout: 30s",
      "entrypoint: [/sbin/boxinit, --grace, 5s]",
      "command: [--, sleep, '300']",
      "port:",
      "  - {src: 18090, dst: 8090}",
      "  - {src: 18053, dst: 53, protocol: udp}",
      "env:",
      "  SPACED: a b  c",
      "  QUOTED: it's $HOME and \"this\"",
      "  EMPTY: ''",
      "healthcheck: {test: [boxinit, health], interval: 5s, timeout: 2s, start_period: 1500ms, retries: 2}",
    ].join("\n"));
    await book.tag(BASE_IMAGE, "run");
    const dry = await book.host("run", "--dry-run");
    t.equal(dry.code, 0, dry.stderr);
    t.equal(await inspectContainer(book.container), undefined, "a dry run creates nothing");
    t.equal(dry.stdout.split("\n").length, 2, "one line");
    t.equal((await book.host("run")).code, 0);

    // The printed line, run by a shell, under another name.
    const line = dry.stdout.trim().replace(`--name ${book.container}`, `--name ${book.name}-dry`);
    execFileSync("sh", ["-c", line], { stdio: ["ignore", "ignore", "inherit"] });
    const real = await inspectContainer(book.container);
    const printed = await inspectContainer(`${book.name}-dry`);
    t.ok(real && printed, "both exist");
    // The docker CLI passes -e through a Go map: its order varies from run to run.
    t.same([...printed.Config.Env].sort(), [...real.Config.Env].sort(), "Config.Env (as a set)");
    for (const field of ["Entrypoint", "Cmd", "Labels", "Hostname", "ExposedPorts", "Healthcheck", "StopTimeout", "Image"]) {
      t.same(printed.Config[field], real.Config[field], `Config.${field}`);
    }
    for (const field of ["Binds", "PortBindings", "RestartPolicy", "NetworkMode"]) {
      t.same(printed.HostConfig[field], real.HostConfig[field], `HostConfig.${field}`);
    }
    t.same(real.Config.Entrypoint, ["/sbin/boxinit"]);
    t.same(real.Config.Cmd, ["--grace", "5s", "--", "sleep", "300"], "the entrypoint's other words lead the CMD");
    t.ok(real.Config.Env.includes("QUOTED=it's $HOME and \"this\""), "env values arrive unchanged");
    t.same(real.HostConfig.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 2 });
    t.same(real.Config.Healthcheck.Test, ["CMD-SHELL", "boxinit health"]);
    t.equal(real.Config.Healthcheck.StartPeriod, 1_500_000_000);
  });

  await t.test("run without IMAGE:run: exit 12 with the next step", async (t) => {
    const book = makeBook(t);
    const none = await book.host("run");
    t.equal(none.code, 12);
    t.match(none.stderr, new RegExp(`^boxinit host: error: ${book.container}: image ${book.repo}:run not found; build ${book.repo}:latest, then \`boxinit host promote `));
    await book.tag(BASE_IMAGE, "latest");
    const unpromoted = await book.host("run");
    t.equal(unpromoted.code, 12);
    t.match(unpromoted.stderr, /; `boxinit host promote .*` tags .*:latest as :run\n$/, "the hint names the promote when :latest exists");
    t.equal(await inspectContainer(book.container), undefined, "nothing created");
  });
});

// The errors a user of `boxinit host` meets with a real engine, each one line
// with what to do and its own exit code: permission denied on the socket (11),
// a host port already taken (14), the container name taken by a container not
// made from the book (13), backoff engaged (4: nothing is created), a
// container the engine cannot start (1: the engine's reason, and the created
// container removed). No engine at all (10) is in test/integration/host-cli.test.ts.
import t from "tap";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import { BASE_IMAGE, dockerOk, requireDocker } from "../helpers/docker.ts";
import { boxinitHost, inspectContainer, makeBook } from "../helpers/host.ts";

const NOBODY = 65534;

const listenOnLoopback = async (t: { teardown(fn: () => void): void }): Promise<number> => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  t.teardown(() => server.close());
  return (server.address() as { port: number }).port;
};

t.test("host errors on a real engine", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;

  await t.test("permission denied on the socket: exit 11, one line naming the fix", async (t) => {
    if (process.getuid?.() !== 0) {
      t.fail("this test switches to uid 65534 to meet the socket's permissions: run it as root (sudo make test)");
      return;
    }
    const book = makeBook(t);
    const denied = await boxinitHost(["status", book.path], { uid: NOBODY, env: { PATH: "/usr/bin:/bin" } });
    t.equal(denied.code, 11);
    t.equal(denied.stderr,
      `boxinit host: error: inspect container ${book.container}: permission denied on the Docker socket unix:///var/run/docker.sock; run as root, or add this user to the docker group (and log in again)\n`);
  });

  await t.test("a host port already taken: exit 14 before anything is created", async (t) => {
    const port = await listenOnLoopback(t);
    const book = makeBook(t, `port: [{src: ${port}, dst: 8090}]\ncommand: [--, sleep, '300']`);
    await book.tag(BASE_IMAGE, "run");
    const taken = await book.host("run");
    t.equal(taken.code, 14);
    t.match(taken.stderr, new RegExp(`^boxinit host: error: ${book.container}: host port ${port}/tcp is already in use \\(IPv4\\); stop what listens there .*, or change port\\[\\]\\.src in .*\\n$`));
    t.equal(await inspectContainer(book.container), undefined, "no container left behind");
  });

  await t.test("the name taken by a container not made from the book: exit 13, it is left alone", async (t) => {
    const book = makeBook(t);
    await book.tag(BASE_IMAGE, "run");
    await dockerOk(["create", "--name", book.container, "--network", "none", BASE_IMAGE, "--", "true"]);
    const conflict = await book.host("run");
    t.equal(conflict.code, 13);
    t.match(conflict.stderr, new RegExp(`^boxinit host: error: ${book.container} exists \\(created, exit 0\\) but was not created by boxinit host from this book`));
    t.equal((await inspectContainer(book.container))?.Config.Labels["boxinit.book"], undefined, "the foreign container is still there");
  });

  await t.test("backoff engaged: run refuses with exit 4 and creates nothing", async (t) => {
    const book = makeBook(t, "command: [--, sleep, '300']");
    await book.tag(BASE_IMAGE, "run");
    mkdirSync(book.home, { recursive: true });
    writeFileSync(join(book.home, "backoff"), "true\n");
    const refused = await book.host("run");
    t.equal(refused.code, 4);
    t.match(refused.stderr, new RegExp(`^boxinit host: error: ${book.container}: not started: backoff is engaged \\(\\S+/backoff says true\\), so the box would stop at once`));
    t.equal(await inspectContainer(book.container), undefined, "no container was created");
    writeFileSync(join(book.home, "backoff"), "false\n");
    t.equal((await book.host("run")).code, 0, "with backoff off, the same book runs");
  });

  await t.test("a container the engine cannot start (its entrypoint does not exist): exit 1, the engine's reason, nothing left behind", async (t) => {
    const book = makeBook(t, "entrypoint: [/nonexistent/entrypoint]\ncommand: []");
    await book.tag(BASE_IMAGE, "run");
    const failed = await book.host("run");
    t.equal(failed.code, 1, "any other engine failure: exit 1");
    t.match(failed.stderr, new RegExp(`^boxinit host: error: start ${book.container}: the Docker engine answered: .*/nonexistent/entrypoint`), "one line with the engine's own reason");
    t.equal(failed.stderr.trimEnd().split("\n").length, 1, "one line");
    t.equal(await inspectContainer(book.container), undefined, "the created container was removed: it does not block the next run's name");
  });

  await t.test("a running container of the book: run says so, exit 3", async (t) => {
    const book = makeBook(t, "command: [--, sleep, '300']");
    await book.tag(BASE_IMAGE, "run");
    t.equal((await boxinitHost(["run", book.path])).code, 0);
    const again = await book.host("run");
    t.equal(again.code, 3);
    t.match(again.stderr, /is already running/);
  });
});

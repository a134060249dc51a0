// `boxinit host` through the built binary where no engine is needed: usage,
// a bad book (every problem, exact lines, exit 2), no engine at the address
// (exit 10, one line), a bad DOCKER_HOST, and the verbs that work without an
// engine (run --dry-run, backoff without --wait).
import t from "tap";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOXINIT, ROOT } from "../helpers/boxinit.ts";
import { boxinitHost } from "../helpers/host.ts";

const BAD_PORT_BOOK = join(ROOT, "test/fixtures/books/bad-port.book.yaml");

const tempBook = (t: { teardown(fn: () => void): void }, text: string): { path: string; home: string } => {
  const dir = mkdtempSync(join(tmpdir(), "boxinit-host-cli-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, "home");
  const path = join(dir, "app.book.yaml");
  writeFileSync(path, `name: app\nhome: ${home}\n${text}`);
  return { path, home };
};

const noEngine = (address: string) => ({ env: { ...process.env, DOCKER_HOST: address } });

t.test("host without an engine", async (t) => {
  if (!existsSync(BOXINIT)) {
    t.fail(`${BOXINIT} is missing: run "make" first`);
    return;
  }

  await t.test("usage: help is exit 0, a bad command line exit 2 with the usage", async (t) => {
    const help = await boxinitHost(["--help"]);
    t.equal(help.code, 0);
    t.match(help.stdout, /^usage: boxinit host VERB BOOK \[options\]\n/);
    t.match(help.stdout, /10 no engine, 11 permission denied, 12 image not found, 13 name conflict,\n14 port in use/);
    const unknown = await boxinitHost(["deploy", "x.yaml"]);
    t.equal(unknown.code, 2);
    t.match(unknown.stderr, /^boxinit host: unknown verb "deploy": expected run, promote, cron, status, backoff, kube, logs\nusage:/);
    const flag = await boxinitHost(["cron", "x.yaml", "--dry-run"]);
    t.equal(flag.code, 2);
    t.match(flag.stderr, /^boxinit host: cron: unknown option "--dry-run"\n/);
  });

  await t.test("--state-dir before host: refused, not run as a program called host", async (t) => {
    const { spawnSync } = await import("node:child_process");
    const result = spawnSync(BOXINIT, ["--state-dir", "/tmp", "host", "status", "x.yaml"], { encoding: "utf8" });
    t.equal(result.status, 2);
    t.match(result.stderr, /--config and --state-dir do not apply to host/);
  });

  await t.test("a bad book: every problem with its path, exit 2, nothing done", async (t) => {
    const bad = await boxinitHost(["status", BAD_PORT_BOOK], noEngine("unix:///nonexistent/docker.sock"));
    t.equal(bad.code, 2, "the book is checked before the engine is asked anything");
    const lines = bad.stderr.trimEnd().split("\n");
    t.equal(lines[0], `boxinit host: book: ${BAD_PORT_BOOK}: ${lines.length - 1} problems; nothing was done`);
    t.ok(lines.length > 5, "all of them");
    t.equal(lines[1], `  ${BAD_PORT_BOOK}: port[0].src: expected a port number 1-65535, got "70000"`);
    t.equal(lines[3], `  ${BAD_PORT_BOOK}: port[1].dst: expected a port number 1-65535, got "0"`);
    const missing = await boxinitHost(["status", "/nonexistent/app.book.yaml"]);
    t.equal(missing.code, 2);
    t.equal(missing.stderr, "boxinit host: book: /nonexistent/app.book.yaml: 1 problem; nothing was done\n  /nonexistent/app.book.yaml: cannot read the book: ENOENT: no such file or directory\n");
  });

  await t.test("no engine at the address: exit 10, one line saying what to do", async (t) => {
    const book = tempBook(t, "");
    const socket = await boxinitHost(["status", book.path], noEngine("unix:///nonexistent/docker.sock"));
    t.equal(socket.code, 10);
    t.equal(socket.stderr,
      "boxinit host: error: inspect container app-production: no Docker engine answers at unix:///nonexistent/docker.sock (ENOENT); start dockerd, or point DOCKER_HOST at the engine\n");
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const tcp = await boxinitHost(["cron", book.path], noEngine("tcp://127.0.0.1:1"));
    t.equal(tcp.code, 10);
    t.match(tcp.stderr, /^boxinit host: error: inspect container app-production: no Docker engine answers at tcp:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\); start dockerd/);
    t.equal(tcp.stderr.split("\n").length, 2, "one line");
  });

  await t.test("a DOCKER_HOST that is not an address: exit 2", async (t) => {
    const book = tempBook(t, "");
    const bad = await boxinitHost(["status", book.path], noEngine("tcp://[nonsense"));
    t.equal(bad.code, 2);
    t.match(bad.stderr, /^boxinit host: error: DOCKER_HOST="tcp:\/\/\[nonsense": DOCKER_HOST env variable should be something like tcp:\/\/localhost:1234\n$/);
  });

  await t.test("run --dry-run and backoff without --wait need no engine", async (t) => {
    const book = tempBook(t, "image: team/app\ncommand: [job, nightly]\nenv: {NOTE: \"it's\"}\n");
    const dry = await boxinitHost(["run", book.path, "--dry-run"], noEngine("unix:///nonexistent/docker.sock"));
    t.equal(dry.code, 0, dry.stderr);
    t.equal(dry.stdout, `docker run --detach --name app-production --label boxinit.book=app --env 'NOTE=it'\\''s' team/app:run job nightly\n`);
    const on = await boxinitHost(["backoff", book.path, "on"], noEngine("unix:///nonexistent/docker.sock"));
    t.equal(on.code, 0, on.stderr);
    t.equal(readFileSync(join(book.home, "backoff"), "utf8"), "true\n");
    t.equal(on.stdout, `boxinit host backoff: on: wrote "true" to ${join(book.home, "backoff")}\n`);
    const off = await boxinitHost(["backoff", book.path, "off"]);
    t.equal(off.code, 0);
    t.equal(readFileSync(join(book.home, "backoff"), "utf8"), "false\n");
  });
});

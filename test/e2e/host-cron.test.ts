// `boxinit host cron` on the real engine, decision by decision, in the seed's
// order: a failed run's logs saved under the seed's name and the container
// removed; a clean exit removed without a file; a running container, backoff
// engaged, or no container: nothing done; --run starts the next run; a
// container of the same name not made from the book is left alone.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { BASE_IMAGE, dockerOk, requireDocker } from "../helpers/docker.ts";
import { inspectContainer, makeBook, waitExit } from "../helpers/host.ts";

const failuresIn = (home: string, name: string): string[] => {
  try {
    return readdirSync(join(home, "logs")).filter((file) => file.includes(`-cron-failure-${name}-`));
  } catch {
    return [];
  }
};

// A batch-job container, as the seed's cron wrapper ran them: boxinit job in the base image.
const jobBook = (script: string): string =>
  ["hostname: batch01", `command: [job, nightly, --, sh, -c, ${JSON.stringify(script)}]`].join("\n");

t.test("host cron", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;

  await t.test("a failed run: its stdout and stderr saved under the seed's name, the container removed", async (t) => {
    const book = makeBook(t, jobBook("echo to-stdout; sleep 0.3; echo to-stderr >&2; sleep 0.3; echo more-stdout; exit 3"));
    await book.tag(BASE_IMAGE, "run");
    const first = await book.host("cron", "--run");
    t.equal(first.code, 0, first.stderr);
    t.match(first.stdout, new RegExp(`^boxinit host cron: ${book.container}: no container\\nboxinit host cron: ${book.container}: started `));
    t.equal(await waitExit(book.container), 3);

    const cron = await book.host("cron");
    t.equal(cron.code, 0, cron.stderr);
    const files = failuresIn(book.home, book.name);
    t.equal(files.length, 1, `one log file: ${files.join(", ")}`);
    t.match(files[0], new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ-cron-failure-${book.name}-exit-3-batch01$`), "the seed's name, with the container's hostname");
    t.equal(await inspectContainer(book.container), undefined, "the container was removed");
    const text = readFileSync(join(book.home, "logs", files[0]!), "utf8");
    t.match(text, /^# boxinit host cron failure report\n/);
    t.match(text, new RegExp(`container: ${book.container} \\([0-9a-f]{12}\\)\\n`));
    t.match(text, /host: batch01\n/);
    t.match(text, /result: exit 3\n/);
    const output = text.slice(text.indexOf("--- output"));
    t.match(output, /to-stdout\n(?:.*\n)*to-stderr\n(?:.*\n)*more-stdout\n/, "stdout and stderr, in the order written (apart in time: two pipes have no order between them)");
    t.match(cron.stdout, new RegExp(`^boxinit host cron: ${book.container}: exited 3 at \\S+: logs saved to \\S+; removed\\n$`), "one line");
  });

  await t.test("a clean exit: removed, no file", async (t) => {
    const book = makeBook(t, jobBook("echo fine"));
    await book.tag(BASE_IMAGE, "run");
    t.equal((await book.host("cron", "--run")).code, 0);
    t.equal(await waitExit(book.container), 0);
    const cron = await book.host("cron");
    t.equal(cron.code, 0);
    t.match(cron.stdout, new RegExp(`^boxinit host cron: ${book.container}: exited 0 at \\S+: removed\\n$`));
    t.equal(await inspectContainer(book.container), undefined);
    t.same(failuresIn(book.home, book.name), []);
  });

  await t.test("while it runs: nothing done, even with --run", async (t) => {
    const book = makeBook(t, "command: [--, sleep, '300']");
    await book.tag(BASE_IMAGE, "run");
    t.equal((await book.host("run")).code, 0);
    const before = await inspectContainer(book.container);
    const cron = await book.host("cron", "--run");
    t.equal(cron.code, 0);
    t.match(cron.stdout, new RegExp(`^boxinit host cron: ${book.container}: running since \\S+: nothing to do\\n$`));
    const after = await inspectContainer(book.container);
    t.equal(after?.Id, before.Id, "the same container");
    t.equal(after?.State.Running, true, "still running");
  });

  await t.test("backoff engaged: a failed container is kept, and --run starts nothing", async (t) => {
    const book = makeBook(t, jobBook("exit 4"));
    await book.tag(BASE_IMAGE, "run");
    t.equal((await book.host("cron", "--run")).code, 0);
    t.equal(await waitExit(book.container), 4);
    writeFileSync(join(book.home, "backoff"), "true\n");
    const cron = await book.host("cron", "--run");
    t.equal(cron.code, 0);
    t.match(cron.stdout, /exited \(exit 4\); backoff is engaged \(.*\/backoff says true\): nothing to do\n$/);
    t.equal((await inspectContainer(book.container))?.State.Status, "exited", "kept, not restarted");
    t.same(failuresIn(book.home, book.name), [], "no file while backoff holds");
  });

  await t.test("no container: nothing to do; --run starts one", async (t) => {
    const book = makeBook(t, "command: [--, sleep, '300']");
    await book.tag(BASE_IMAGE, "run");
    const idle = await book.host("cron");
    t.equal(idle.code, 0);
    t.equal(idle.stdout, `boxinit host cron: ${book.container}: no container\n`);
    t.equal(await inspectContainer(book.container), undefined, "without --run nothing is started");
    const started = await book.host("cron", "--run");
    t.equal(started.code, 0, started.stderr);
    t.equal((await inspectContainer(book.container))?.State.Running, true);
  });

  await t.test("a container of that name not made from the book: left alone, exit 13", async (t) => {
    const book = makeBook(t);
    await dockerOk(["run", "--name", book.container, "--network", "none", "--entrypoint", "sh", BASE_IMAGE, "-c", "exit 2"]).catch(() => undefined);
    t.equal((await inspectContainer(book.container))?.State.ExitCode, 2);
    const cron = await book.host("cron");
    t.equal(cron.code, 13);
    t.match(cron.stderr, new RegExp(`^boxinit host: error: ${book.container} exists \\(exited, exit 2\\) but was not created by boxinit host from this book .*; remove it yourself`));
    t.ok(await inspectContainer(book.container), "still there");
  });
});

t.test("host cron keeps what it cannot account for", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;

  await t.test("logs that cannot be saved: the container is kept, exit 1", async (t) => {
    const book = makeBook(t, jobBook("echo precious; exit 6"));
    await book.tag(BASE_IMAGE, "run");
    t.equal((await book.host("cron", "--run")).code, 0);
    t.equal(await waitExit(book.container), 6);
    // logs/ planted as a symlink: root's cron refuses to write through it.
    rmSync(join(book.home, "logs"), { recursive: true, force: true });
    symlinkSync("/tmp", join(book.home, "logs"));
    const cron = await book.host("cron", "--run");
    t.equal(cron.code, 1);
    t.match(cron.stderr, new RegExp(`^boxinit host: error: ${book.container}: exited 6, but its logs could not be saved under ${join(book.home, "logs")}: .*; the container is kept`));
    t.equal(cron.stderr.split("\n").length, 2, "one line");
    t.equal((await inspectContainer(book.container))?.State.ExitCode, 6, "still there, with its logs");
    unlinkSync(join(book.home, "logs"));
    const retry = await book.host("cron");
    t.equal(retry.code, 0, retry.stderr);
    t.equal(failuresIn(book.home, book.name).length, 1, "saved once the directory is fixed");
    t.equal(await inspectContainer(book.container), undefined);
  });

  await t.test("a backoff file that cannot be read: a running box is still left alone (exit 0), a finished one is not touched (exit 1)", async (t) => {
    const book = makeBook(t, "command: [--, sleep, '300']");
    await book.tag(BASE_IMAGE, "run");
    t.equal((await book.host("run")).code, 0);
    mkdirSync(join(book.home, "backoff"));
    const running = await book.host("cron", "--run");
    t.equal(running.code, 0, running.stderr);
    t.match(running.stdout, /running since \S+: nothing to do\n$/);
    await dockerOk(["kill", book.container]);
    await waitExit(book.container);
    const stopped = await book.host("cron", "--run");
    t.equal(stopped.code, 1);
    t.match(stopped.stderr, /backoff: cannot read it \(EINVAL\), so whether backoff is engaged is unknown: nothing was done/);
    t.equal((await inspectContainer(book.container))?.State.Status, "exited", "kept, not restarted");
  });

  await t.test("one command per book at a time: an overlapping cron exits 0, a run exits 3", async (t) => {
    const book = makeBook(t);
    await book.tag(BASE_IMAGE, "run");
    mkdirSync(join(book.home, "jobs"), { recursive: true });
    // Another holder of the lock: flock(1) on the same file, until the test ends.
    const holder = spawn("flock", [join(book.home, "jobs", ".host.lock"), "sleep", "60"], { stdio: "ignore" });
    t.teardown(() => holder.kill("SIGKILL"));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && spawnSync("flock", ["-n", join(book.home, "jobs", ".host.lock"), "true"]).status === 0) await sleep(20);
    const cron = await book.host("cron", "--run");
    t.equal(cron.code, 0);
    t.match(cron.stdout, /another boxinit host command is at work on this book \(another process\): nothing to do\n$/);
    const run = await book.host("run");
    t.equal(run.code, 3);
    t.match(run.stderr, /another boxinit host command is at work on this book/);
    t.equal(await inspectContainer(book.container), undefined, "nothing started");
  });
});

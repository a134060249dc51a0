// `boxinit logs` and `boxinit host logs` through the built binary, on log
// files written by log/log-file.ts (no PID 1 needed): the tail from the host's
// view (--state-dir, --log-dir) and from a book's home without an engine,
// the service list, -f through a rotation ended by SIGINT and by SIGTERM
// with 0, a closed pipe (`| head`), and the usage errors (2).
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLogDir } from "../../src/control/log-dir.ts";
import { LogFile } from "../../src/log/log-file.ts";
import { BOXINIT, boxinitTool } from "../helpers/boxinit.ts";
import { boxinitHost } from "../helpers/host.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";

const line = (index: number): string => `line ${String(index).padStart(6, "0")}\n`;
const tagged = (from: number, to: number): string => Array.from({ length: to - from }, (_, index) => `out ${line(from + index)}`).join("");

/** STATE/logs/services/web.log written by the real writer: 4 KiB files (256 lines each), 3 kept. */
const logs = (t: { teardown(fn: () => void): void }, stateDir: string) => {
  const dir = join(stateDir, "logs", "services");
  const file = new LogFile({ name: "web", dir, maxSizeBytes: 4096, keep: 3, timestamps: false, log: recordingLogger().log, openDir: () => openLogDir(dir, stateDir, undefined, true) });
  t.teardown(() => file.close());
  let next = 0;
  return { dir, write: (count: number) => { for (const end = next + count; next < end; next++) file.write(Buffer.from(line(next)), "stdout"); } };
};

t.test("the tail from the host: --state-dir, --log-dir, a book's home", async (t) => {
  if (!existsSync(BOXINIT)) return t.fail(`${BOXINIT} is missing: run "make" first`);
  const stateDir = tempDir(t);
  const { dir, write } = logs(t, stateDir);
  write(600);
  const result = boxinitTool(["logs", "--state-dir", stateDir, "web", "-n", "300"]);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, tagged(300, 600), "across the rotated files, oldest first");
  const byDir = boxinitTool(["logs", "web", "--log-dir", dir, "-n2"]);
  t.equal(byDir.stdout, tagged(598, 600));
  const book = join(tempDir(t), "web.book.yaml");
  writeFileSync(book, `name: web\nhome: ${stateDir}\n`);
  const fromBook = await boxinitHost(["logs", book, "web", "-n", "3"], { env: { ...process.env, DOCKER_HOST: "unix:///nonexistent.sock" } });
  t.equal(fromBook.code, 0, fromBook.stderr);
  t.equal(fromBook.stdout, tagged(597, 600), "host logs reads HOME/logs/services without an engine");
  const list = await boxinitHost(["logs", book]);
  t.equal(list.stdout, "web\n", "without SERVICE: the services with a log file");
  const usage = await boxinitHost(["logs"]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /logs: expected a book file/);
  const bad = boxinitTool(["logs", "web", "-n", "-1"]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /-n: expected a count of lines/);
  const none = boxinitTool(["logs", "--state-dir", stateDir, "db"]);
  t.equal(none.code, 1);
  t.match(none.stderr, /db: no log file .*\(services with one: web\)/);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  t.test(`-f through a rotation, ended by ${signal} with 0`, async (t) => {
    if (!existsSync(BOXINIT)) return t.fail(`${BOXINIT} is missing: run "make" first`);
    const stateDir = tempDir(t);
    const { write } = logs(t, stateDir);
    write(250);
    const follow = spawn(BOXINIT, ["logs", "--state-dir", stateDir, "web", "-n", "1", "-f"], { env: { ...process.env, NODE_OPTIONS: undefined }, stdio: ["ignore", "pipe", "pipe"] });
    t.teardown(() => follow.kill("SIGKILL"));
    let text = "";
    follow.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follow.on("exit", (code) => resolve(code)));
    await waitFor("the tail's line", () => text === tagged(249, 250), 10_000, 10);
    write(100); // crosses 256 lines: NAME.log becomes NAME.log.1
    await waitFor("the lines after the rotation", () => text.endsWith(`out ${line(349)}`), 10_000, 10);
    t.equal(text, tagged(249, 350), "every line once, in order, across the rotation");
    follow.kill(signal);
    t.equal(await exited, 0);
  });
}

t.test("a reader that goes away (| head) ends boxinit logs", async (t) => {
  if (!existsSync(BOXINIT)) return t.fail(`${BOXINIT} is missing: run "make" first`);
  const stateDir = tempDir(t);
  logs(t, stateDir).write(700);
  const result = spawn("sh", ["-c", `"$1" logs --state-dir "$2" web -n 700 | head -n 2`, "sh", BOXINIT, stateDir], { env: { ...process.env, NODE_OPTIONS: undefined } });
  let text = "";
  result.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => result.on("exit", resolve));
  t.equal(code, 0);
  t.equal(text.split("\n").length, 3, "two lines");
});

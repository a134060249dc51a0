// log_files: on the built binary, as PID 1 and as a subreaper: a fast
// service's output lands in STATE/logs/services/web.log, rotated (every
// retained line whole and in order, timestamps, stderr tagged, at most keep
// old files, each within max_size), still on boxinit's stdout; a service with
// log_file: false has no file; `boxinit logs -n` reads it from outside and
// `boxinit logs -f` follows it through rotations until SIGTERM (exit 0).
// Under umask 077 the modes are 0755/0644; a symlink planted at the log
// directory is refused with one warning and written through never, and
// the file is made once it is gone.
// Needs the relay's copyTo hook wired to log/log-file.ts (issue 18).
import t, { type Test } from "tap";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BOXINIT, MODES, boxinitTool, killAllRuns, missingPrerequisite, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";
import { waitFor } from "../helpers/wait-for.ts";

t.teardown(killAllRuns);

const LINES = 2000;
const MAX_SIZE = 4096;
const KEEP = 3;
const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (out|err) (.*)$/;

// The web service writes LINES lines at once, then a batch of 150 (two
// rotations, fewer than keep: -f cannot fall behind by a whole file) each
// time BOX/more appears.
const config = `grace: 3s
log_files: { max_size: ${MAX_SIZE}, keep: ${KEEP}, timestamps: true }
services:
  web:
    command: [/bin/sh, -c, 'i=0; while [ $i -lt ${LINES} ]; do echo "line $i"; i=$((i+1)); done; echo oops >&2; echo first-done; while :; do if [ -e BOX/more ]; then rm BOX/more; i=0; while [ $i -lt 150 ]; do echo "more $i"; i=$((i+1)); done; echo more-done; fi; sleep 0.05; done']
  quiet:
    command: [/bin/sh, -c, 'echo quiet-line; exec sleep 100000']
    log_file: false
    critical: false
`;

/** web's retained lines, oldest first, without time and tag; checks each file on the way. */
const retainedLines = (t: Test, dir: string): Array<{ stream: string; text: string }> => {
  const names = readdirSync(dir).filter((name) => name.startsWith("web.log"));
  const old = names.filter((name) => name !== "web.log").sort((a, b) => Number(b.split(".").pop()) - Number(a.split(".").pop()));
  t.ok(old.length <= KEEP, `at most ${KEEP} old files: ${old.join(", ")}`);
  return [...old, "web.log"].flatMap((name) => {
    const text = readFileSync(join(dir, name), "utf8");
    t.ok(statSync(join(dir, name)).size <= MAX_SIZE, `${name} within max_size`);
    t.ok(text.endsWith("\n"), `${name} ends with a whole line`);
    return text.slice(0, -1).split("\n").map((line) => {
      const match = STAMPED.exec(line);
      if (!match) t.fail(`not a whole stamped line in ${name}: ${JSON.stringify(line)}`);
      return { stream: match?.[1] ?? "?", text: match?.[2] ?? line };
    });
  });
};

for (const mode of MODES) {
  t.test(`${mode}: service output in rotated log files, read with boxinit logs`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const box = makeBox(t, config);
    const dir = join(box.stateDir, "logs", "services");
    const run = startBoxinit(mode, box.args);
    await run.waitFor(/web \| first-done/);
    await waitFor("first-done in web.log", () => existsSync(join(dir, "web.log")) && readFileSync(join(dir, "web.log"), "utf8").includes("out first-done"), 10_000, 20);
    t.match(run.stdout, /web \| line 1999\n/, "the output still goes to boxinit's stdout");

    // stdout and stderr come through two pipes: only each stream's own order is the service's.
    const lines = retainedLines(t, dir);
    t.same(lines.filter((line) => line.stream === "err"), [{ stream: "err", text: "oops" }], "stderr tagged err");
    const out = lines.filter((line) => line.stream === "out");
    t.same(out.at(-1), { stream: "out", text: "first-done" });
    const numbered = out.slice(0, -1).map((line) => Number(/^line (\d+)$/.exec(line.text)?.[1]));
    t.same(numbered, Array.from({ length: numbered.length }, (_, index) => LINES - numbered.length + index), "every retained line, in order, none split");
    t.notOk(existsSync(join(dir, "quiet.log")), "log_file: false: no file for quiet");
    t.equal(statSync(dir).mode & 0o777, 0o755);

    const tail = boxinitTool(["logs", "--state-dir", box.stateDir, "web", "-n", "3"]);
    t.equal(tail.code, 0, tail.stderr);
    t.same(tail.stdout.split("\n").slice(0, -1).map((line) => STAMPED.exec(line)?.[2]).sort(), ["first-done", "line 1999", "oops"]);

    // -f through the rotations the next 150 lines cause, until SIGTERM.
    const follow = spawn(BOXINIT, ["logs", "--state-dir", box.stateDir, "web", "-n", "1", "-f"], { env: { ...process.env, NODE_OPTIONS: undefined }, stdio: ["ignore", "pipe", "pipe"] });
    let followed = "";
    follow.stdout.on("data", (chunk: Buffer) => (followed += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follow.on("exit", (code) => resolve(code)));
    t.teardown(() => follow.kill("SIGKILL"));
    await waitFor("the tail's one line", () => followed.includes("\n"), 10_000, 10);
    writeFileSync(join(box.dir, "more"), "");
    await waitFor("more-done through -f", () => followed.includes("more-done"), 15_000, 10);
    const more = followed.split("\n").slice(1, -1).map((line) => STAMPED.exec(line)?.[2]);
    t.same(more, [...Array.from({ length: 150 }, (_, index) => `more ${index}`), "more-done"], "-f: every new line once, in order, across the rotations");
    follow.kill("SIGTERM");
    t.equal(await exited, 0, "SIGTERM ends -f with 0");

    await run.signal("SIGTERM");
    await run.result();
  });
}

const TICKER = `grace: 3s
log_files: { max_size: 64KiB, keep: 1, timestamps: false }
services:
  ticker:
    command: [/bin/sh, -c, 'i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.02; done']
`;

for (const mode of MODES) {
  t.test(`${mode}: umask 077, and a symlink planted at the log directory`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const box = makeBox(t, TICKER);
    const target = join(box.dir, "elsewhere");
    mkdirSync(target);
    mkdirSync(join(box.stateDir, "logs"));
    symlinkSync(target, join(box.stateDir, "logs", "services"));
    const run = startBoxinit(mode, box.args, { execThrough: ["/bin/sh", "-c", 'umask 077; exec "$@"', "sh"] });
    await run.waitFor(/cannot write the log file of ticker: ELOOP: .*services is a symlink: refusing to work through it/, "stderr");
    await run.waitFor(/tick 3\n/);
    t.same(readdirSync(target), [], "nothing written through the symlink");
    rmSync(join(box.stateDir, "logs", "services"));
    await run.waitFor(/the log file of ticker is written again; \d+ lines/, "stderr", 15_000);
    const dir = join(box.stateDir, "logs", "services");
    t.equal(statSync(dir).mode & 0o777, 0o755, "the directory 0755 under umask 077");
    t.equal(statSync(join(dir, "ticker.log")).mode & 0o777, 0o644, "the file 0644 under umask 077");
    t.match(readFileSync(join(dir, "ticker.log"), "utf8"), /^(out tick \d+\n)+$/);
    t.equal(run.stderr.match(/cannot write the log file/g)?.length, 1, "one warning for the problem");
    await run.signal("SIGTERM");
    await run.result();
  });
}

// A service's rotating log file (src/log/log-file.ts) over the real log
// directory opener (control/log-dir.ts), by descriptor and by path: rotation
// under a fast writer (every retained line, in order, none split, sizes,
// at most keep old files), timestamps and stream tags, modes under umask 077,
// symlinks planted at DIR and at NAME.log, a failure logged once and the
// drop counted when writing works again. A full disk for real:
// integration/log-file-full.test.ts.
import t from "tap";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, linkSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { openLogDir } from "../../src/control/log-dir.ts";
import { LogFile, type LogFileOptions } from "../../src/log/log-file.ts";
import type { PrefixLines } from "../../src/log/log-file-lines.ts";
import { loadNative } from "../../src/native/addon.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const { native: addon, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });
const VARIANTS = [["by descriptor", addon], ["by path", undefined]] as const;
// native/relay.c's prefixLines contract, in JavaScript: copy head + line for
// each whole line of input[from, to) while it fits before outEnd.
const likeTheAddon: PrefixLines = (input, from, to, prefix, output, outAt, outEnd, maxLine, result) => {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.length);
  while (from < to) {
    const newline = bytes.indexOf(0x0a, from);
    if (newline === -1 || newline >= to) break;
    const line = newline + 1 - from;
    if (line - 1 > maxLine || prefix.length + line > outEnd - outAt) break;
    output.set(prefix, outAt);
    output.set(input.subarray(from, newline + 1), outAt + prefix.length);
    outAt += prefix.length + line;
    from += line;
  }
  result[0] = from;
  result[1] = outAt;
};

// The line loop: the addon's prefixLines (native/relay.c) when this build has it, its contract in JavaScript, or none.
const LOOPS = [["the addon's line loop", addon?.lineFormatter()], ["a line loop like the addon's", likeTheAddon], ["no line loop", undefined]] as const;

t.test("the addon loads", async (t) => {
  t.ok(addon, failures.join("; "));
});

const withUmask = (t: { teardown(fn: () => void): void }, mask: number): void => {
  const previous = process.umask(mask);
  t.teardown(() => process.umask(previous));
};

type Native = (typeof VARIANTS)[number][1];

const writer = (t: { teardown(fn: () => void): void }, stateDir: string, native: Native, options: Partial<LogFileOptions> = {}) => {
  const recorded = recordingLogger();
  const dir = join(stateDir, "logs", "services");
  const file = new LogFile({
    name: "web", dir, maxSizeBytes: 4096, keep: 3, timestamps: false, log: recorded.log,
    openDir: () => openLogDir(dir, stateDir, native, true), ...options,
  });
  t.teardown(() => file.close());
  return { file, dir, recorded };
};

const lines = (from: number, count: number, width = 0): Buffer =>
  Buffer.from(Array.from({ length: count }, (_, index) => `line ${String(from + index).padStart(6, "0")}${"x".repeat(width)}\n`).join(""));

/** The retained files, oldest first: NAME.log.K ... NAME.log.1, NAME.log. */
const retained = (dir: string): string[] => {
  const old = readdirSync(dir).filter((name) => /^web\.log\.\d+$/.test(name)).sort((a, b) => Number(b.split(".").pop()) - Number(a.split(".").pop()));
  return [...old, "web.log"];
};

for (const [loop, formatLines] of LOOPS) {
  // The addon's loop is there only in a build that registers native/relay.c.
  const skip = formatLines ? false : loop === "the addon's line loop" && "this build's addon does not export prefixLines";
  t.test(`${loop}: rotation under a fast writer keeps every retained line whole and in order`, { skip }, async (t) => {
    const { file, dir } = writer(t, tempDir(t), addon, { formatLines });
    // Batches of varying size, some lines longer than others, 20 000 lines in all.
    let next = 0;
    for (let batch = 0; next < 20_000; batch++) {
      const count = Math.min(1 + (batch % 37), 20_000 - next);
      file.write(lines(next, count, batch % 5 === 0 ? 100 : 0), batch % 3 === 0 ? "stderr" : "stdout");
      next += count;
    }
    const names = retained(dir);
    t.same(names, ["web.log.3", "web.log.2", "web.log.1", "web.log"], "at most keep (3) old files");
    let previous = -1;
    for (const name of names) {
      const text = readFileSync(join(dir, name), "utf8");
      t.ok(statSync(join(dir, name)).size <= 4096, `${name} within max_size`);
      t.ok(text.endsWith("\n"), `${name} ends with a whole line`);
      for (const line of text.slice(0, -1).split("\n")) {
        const match = /^(out|err) line (\d{6})x*$/.exec(line);
        t.ok(match, `a whole line: ${JSON.stringify(line)}`);
        const number = Number(match![2]);
        if (previous !== -1 && number !== previous + 1) t.fail(`line ${number} follows ${previous} in ${name}`);
        previous = number;
      }
    }
    t.equal(previous, 19_999, "the newest line is last");
  });

  t.test(`${loop}: a line longer than max_size goes alone into a file, a last line without newline gets one`, { skip }, async (t) => {
    const { file, dir } = writer(t, tempDir(t), addon, { formatLines });
    file.write(lines(0, 3), "stdout");
    file.write(Buffer.from(`${"y".repeat(6000)}\n`), "stdout");
    file.write(lines(3, 2), "stdout");
    t.same(readFileSync(join(dir, "web.log.2"), "utf8"), "out line 000000\nout line 000001\nout line 000002\n");
    t.equal(readFileSync(join(dir, "web.log.1"), "utf8"), `out ${"y".repeat(6000)}\n`);
    file.write(Buffer.from("line 000005\nunfinished"), "stderr");
    t.equal(readFileSync(join(dir, "web.log"), "utf8"), "out line 000003\nout line 000004\nerr line 000005\nerr unfinished\n");
  });
}

for (const [variant, native] of VARIANTS) {

  t.test(`${variant}: timestamps are ISO-8601 UTC with milliseconds, stderr tagged err`, async (t) => {
    let nowMs = Date.UTC(2026, 11, 2, 10, 43, 1, 123);
    const { file, dir } = writer(t, tempDir(t), native, { timestamps: true, now: () => nowMs });
    file.write(Buffer.from("one\ntwo\n"), "stdout");
    nowMs += 1;
    file.write(Buffer.from("bad\n"), "stderr");
    file.write(Buffer.from("no newline"), "stdout");
    t.equal(readFileSync(join(dir, "web.log"), "utf8"), [
      "2026-12-02T10:43:01.123Z out one",
      "2026-12-02T10:43:01.123Z out two",
      "2026-12-02T10:43:01.124Z err bad",
      "2026-12-02T10:43:01.124Z out no newline",
      "",
    ].join("\n"));
  });

  t.test(`${variant}: umask 077: the directory and logs/ are 0755, the files 0644`, async (t) => {
    withUmask(t, 0o077);
    const stateDir = tempDir(t);
    const { file, dir } = writer(t, stateDir, native, { maxSizeBytes: 4096 });
    file.write(lines(0, 300), "stdout");
    t.equal(statSync(join(stateDir, "logs")).mode & 0o777, 0o755);
    t.equal(statSync(dir).mode & 0o777, 0o755);
    for (const name of retained(dir)) t.equal(statSync(join(dir, name)).mode & 0o777, 0o644, name);
  });

  t.test(`${variant}: a symlink planted at DIR is refused, logged once, and DIR used once it is gone`, async (t) => {
    const stateDir = tempDir(t);
    const elsewhere = tempDir(t);
    mkdirSync(join(stateDir, "logs"));
    symlinkSync(elsewhere, join(stateDir, "logs", "services"));
    const { file, dir, recorded } = writer(t, stateDir, native, { retryMs: 0 });
    file.write(lines(0, 2), "stdout");
    file.write(lines(2, 1), "stdout");
    t.same(readdirSync(elsewhere), [], "nothing written through the link");
    t.equal(recorded.at("warn").length, 1, "one warning for the problem, not one per batch");
    t.match(recorded.at("warn")[0], /cannot write the log file of web: ELOOP: .*services is a symlink: refusing to work through it/);
    rmSync(join(stateDir, "logs", "services"));
    file.write(lines(3, 1), "stdout");
    t.equal(readFileSync(join(dir, "web.log"), "utf8"), "out line 000003\n");
    t.match(recorded.at("info").join(""), /written again; 3 lines \(36 bytes\) could not be written/);
  });

  t.test(`${variant}: a symlink, a hard link or a FIFO at NAME.log is not written through`, async (t) => {
    const stateDir = tempDir(t);
    const target = join(tempDir(t), "target");
    writeFileSync(target, "");
    const dir = join(stateDir, "logs", "services");
    mkdirSync(dir, { recursive: true });
    for (const [what, plant, code] of [
      ["symlink", () => symlinkSync(target, join(dir, "web.log")), "ELOOP"],
      ["hard link", () => linkSync(target, join(dir, "web.log")), "EMLINK"],
      ["FIFO", () => execFileSync("mkfifo", [join(dir, "web.log")]), "(ENXIO|EINVAL)"],
    ] as const) {
      plant();
      const { file, recorded } = writer(t, stateDir, native);
      file.write(lines(0, 1), "stdout");
      t.equal(readFileSync(target, "utf8"), "", `${what}: the target is untouched`);
      t.match(recorded.at("warn")[0], new RegExp(`: ${code}: .* file=${dir}/web.log`), what);
      file.close();
      rmSync(join(dir, "web.log"));
    }
    t.ok(lstatSync(target).isFile());
  });
}

import t from "tap";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BACKOFF_READ_BYTES, checkBackoff, parseBackoff, readBackoff, showContent } from "../../src/control/backoff.ts";
import { tempDir } from "../helpers/temp-dir.ts";

t.test("what engages", async (t) => {
  const table: Array<[string | undefined, boolean, string | undefined]> = [
    [undefined, false, undefined],
    ["", false, undefined],
    ["\n", false, undefined],
    ["true", true, undefined],
    ["true\n", true, undefined],
    ["  true \n\n", true, undefined],
    ["true\r\n", true, undefined],
    ["\ufefftrue\n", true, undefined],
    ["\ttrue\t", true, undefined],
    ["false", false, undefined],
    ["false\n", false, undefined],
    [" false\r\n", false, undefined],
    ["ture\n", false, "ture"],
    ["yes", false, "yes"],
    ["TRUE", false, "TRUE"],
    ["True\n", false, "True"],
    ["1", false, "1"],
    ["on", false, "on"],
    ["true true", false, "true true"],
    ["true\nfalse", false, "true\\nfalse"],
    ["tr\u0000ue", false, "tr\\x00ue"],
    ["\u001b[31mred", false, "\\x1b[31mred"],
    ["x".repeat(100), false, `${"x".repeat(40)}…`],
  ];
  for (const [text, engaged, unexpected] of table) {
    const value = parseBackoff(text);
    t.equal(value.engaged, engaged, `${JSON.stringify(text)} engaged=${engaged}`);
    t.equal(value.unexpected, unexpected, `${JSON.stringify(text)} unexpected=${unexpected}`);
  }
});

t.test("content shown in a log line", async (t) => {
  t.equal(showContent("a\tb\rc\u007fd\u0085"), "a\\tb\\rc\\x7fd\\x85");
  t.equal(showContent("é".repeat(41)), `${"é".repeat(40)}…`, "counts characters, not bytes");
  t.equal(showContent("😀".repeat(40)), "😀".repeat(40), "no surrogate pair cut in half");
});

t.test("reading the file", async (t) => {
  const dir = tempDir(t);
  t.equal(readBackoff(dir), undefined, "missing file");
  t.equal(readBackoff(join(dir, "no-such-dir")), undefined, "missing directory");
  writeFileSync(join(dir, "plain"), "x");
  t.equal(readBackoff(join(dir, "plain")), undefined, "a file where the directory should be");
  writeFileSync(join(dir, "backoff"), "true\n");
  t.equal(readBackoff(dir), "true\n");
  t.same(checkBackoff(dir), { engaged: true });

  const big = tempDir(t);
  writeFileSync(join(big, "backoff"), "a".repeat(BACKOFF_READ_BYTES * 3));
  t.equal(readBackoff(big)?.length, BACKOFF_READ_BYTES, "bounded read");
});

t.test("ConfigMap layout: symlinks are followed", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "..2026_11_26_10_00_00.1"));
  writeFileSync(join(dir, "..2026_11_26_10_00_00.1", "backoff"), "true\n");
  symlinkSync("..2026_11_26_10_00_00.1", join(dir, "..data"));
  symlinkSync("..data/backoff", join(dir, "backoff"));
  t.equal(readBackoff(dir), "true\n");
  t.same(checkBackoff(dir), { engaged: true });
});

t.test("not a regular file: refused, never blocks", async (t) => {
  const fifoDir = tempDir(t);
  execFileSync("mkfifo", [join(fifoDir, "backoff")]);
  t.throws(() => readBackoff(fifoDir), { code: "EINVAL" }, "a FIFO with no writer would block open(2) without O_NONBLOCK");
  t.same(checkBackoff(fifoDir), { engaged: false, readError: "EINVAL" });

  const dirDir = tempDir(t);
  mkdirSync(join(dirDir, "backoff"));
  t.same(checkBackoff(dirDir), { engaged: false, readError: "EINVAL" });

  const loopDir = tempDir(t);
  symlinkSync("backoff", join(loopDir, "backoff"));
  t.same(checkBackoff(loopDir), { engaged: false, readError: "ELOOP" });

  const dangling = tempDir(t);
  symlinkSync("..data/backoff", join(dangling, "backoff"));
  t.same(checkBackoff(dangling), { engaged: false }, "a dangling link reads as missing");
});

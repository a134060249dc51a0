// scripts/check-sizes.mjs (make lint): files over 300 lines and functions over
// 60 are reported with file:line, name and length unless a comment says why
// ("Over 300/60 lines on purpose: reason") or the allowlist names them.
import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../helpers/temp-dir.ts";

const script = resolve(import.meta.dirname, "../../scripts/check-sizes.mjs");
const body = (lines: number): string => "  void 0;\n".repeat(lines);

/** Runs the checker in dir on its src/, with the given allowlist text; its exit code and output. */
const check = (dir: string, allowlist = ""): { status: number | null; out: string } => {
  writeFileSync(join(dir, "allow.txt"), allowlist);
  const run = spawnSync(process.execPath, [script, "--allowlist", "allow.txt", "src"], { cwd: dir, encoding: "utf8" });
  return { status: run.status, out: run.stdout + run.stderr };
};

const project = (t: Parameters<typeof tempDir>[0], files: Record<string, string>): string => {
  const dir = tempDir(t, "boxinit-sizes-");
  mkdirSync(join(dir, "src"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "src", name), text);
  return dir;
};

t.test("within the limits: exit 0, nothing printed", async (t) => {
  const dir = project(t, { "a.ts": `// a\nexport const f = () => {\n${body(58)}};\n` });
  t.same(check(dir), { status: 0, out: "" });
});

t.test("a long function of each kind: file:line, name, length", async (t) => {
  const dir = project(t, {
    "a.ts": [
      `export function declared(): void {\n${body(60)}}`,
      `export const arrow = (): void => {\n${body(60)}};`,
      `class Box {\n  method(): void {\n${body(60)}  }\n  field = () => {\n${body(60)}  };\n}`,
      "",
    ].join("\n"),
    "b.ts": `setTimeout(() => {\n${body(60)}});\n`,
  });
  const { status, out } = check(dir);
  t.equal(status, 1);
  t.match(out, "src/a.ts:1: declared is 62 lines (over 60)");
  t.match(out, "src/a.ts:63: arrow is 62 lines (over 60)");
  t.match(out, "src/a.ts:126: Box.method is 62 lines");
  t.match(out, "src/a.ts:188: Box.field is 62 lines");
  t.match(out, "src/b.ts:1: (top)/arrow is 62 lines");
  t.match(out, "check-sizes: 5 over the limits", "the file, at 250 lines, is not");
});

t.test("the reason: directly above the statement, across lines, and not empty", async (t) => {
  const dir = project(t, {
    "a.ts": [
      `/**\n * One loop. Over 60 lines\n * on purpose: one branch per option.\n */\nexport const parse = (): void => {\n${body(60)}};`,
      `// Over 60 lines on purpose: a table.\nfunction table(): void {\n${body(60)}}`,
      `// Over 60 lines on purpose:\nfunction noReason(): void {\n${body(60)}}`,
      `// Over 60 lines on purpose: not directly above.\n\nfunction gap(): void {\n${body(60)}}`,
      "",
    ].join("\n"),
  });
  const { out } = check(dir);
  t.notMatch(out, "parse is");
  t.notMatch(out, "table is");
  t.match(out, "noReason is 62 lines");
  t.match(out, "gap is 62 lines");
});

t.test("a long file: its header comment says why, or it is reported", async (t) => {
  const long = `export const x = 1;\n${"// filler\n".repeat(300)}`;
  const dir = project(t, { "long.ts": `// A file.\n${long}`, "why.ts": `// A table. Over 300 lines on purpose: one row a line.\n${long}` });
  const { out } = check(dir);
  t.match(out, "src/long.ts:1: file is 302 lines (over 300)");
  t.notMatch(out, "why.ts");
});

t.test("the allowlist: path for the file, path:function for a function, a reason each", async (t) => {
  const long = `export const f = () => {\n${body(60)}};\n${"// filler\n".repeat(240)}`;
  const dir = project(t, { "a.ts": long, "b.ts": "export const y = 1;\n" });
  t.same(check(dir, "# pending\nsrc/a.ts  being split elsewhere\nsrc/a.ts:f  being split elsewhere\n"), { status: 0, out: "" });
  const stale = check(dir, "src/a.ts pending\nsrc/a.ts:f pending\nsrc/b.ts pending\n");
  t.equal(stale.status, 0, "an entry that matches nothing is a note, not a failure");
  t.match(stale.out, "allow.txt: src/b.ts is within the limits now: remove the entry");
  const bare = check(dir, "src/a.ts\nsrc/a.ts:f pending\n");
  t.equal(bare.status, 1);
  t.match(bare.out, "allow.txt:1: src/a.ts: no reason given");
});

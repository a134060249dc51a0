// scripts/ascii-bundle.mjs (the build, after esbuild): a bundle comes out pure
// ASCII, so V8 holds it as a one-byte string, and its code does the same.
import t from "tap";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import vm from "node:vm";
import { tempDir } from "../helpers/temp-dir.ts";

const script = resolve(import.meta.dirname, "../../scripts/ascii-bundle.mjs");

t.test("non-ASCII in a comment becomes an escape; the code is unchanged", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "bundle.cjs");
  // As esbuild leaves a bundle: strings escaped, a JSDoc comment in a class body kept as written.
  const before = 'class Box {\n  /** running ⇄ degraded, 𝄞 */\n  state = "\\u21C4";\n}\nmodule.exports = new Box().state;\n';
  writeFileSync(file, before);
  const run = spawnSync(process.execPath, [script, file], { encoding: "utf8" });
  t.equal(run.status, 0, run.stderr);
  const after = readFileSync(file, "utf8");
  t.match(after, /^[\x00-\x7f]*$/, "pure ASCII");
  t.match(after, /running \\u\{21c4\} degraded, \\u\{1d11e\}/, "each character escaped in the comment");
  const evaluate = (code: string): unknown => {
    const module = { exports: {} as unknown };
    new vm.Script(`(function (module) {${code}\n})`).runInThisContext()(module);
    return module.exports;
  };
  t.equal(evaluate(after), evaluate(before), "same value");
});

t.test("an ASCII bundle is left as it is", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "bundle.cjs");
  writeFileSync(file, "module.exports = 1;\n");
  t.equal(spawnSync(process.execPath, [script, file]).status, 0);
  t.equal(readFileSync(file, "utf8"), "module.exports = 1;\n");
});

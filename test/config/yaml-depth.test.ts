// The nesting pre-check: deep documents are refused before the (recursive)
// parser sees them; real configs and books, with their quotes, comments,
// block scalars and brackets inside words, pass (issue 13, rough edge).
import t from "tap";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_NESTING_DEPTH, findExcessNesting } from "../../src/config/yaml-depth.ts";
import { loadConfig } from "../../src/config/load.ts";
import { loadBook } from "../../src/host/book.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures");

t.test("100k levels, however written, are found at once", async (t) => {
  const flow = `a: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`;
  t.same(findExcessNesting(flow), { line: 1, depth: MAX_NESTING_DEPTH + 1 }, "flow lists on one line");
  t.ok(findExcessNesting(`${"{a: ".repeat(100_000)}${"}".repeat(100_000)}\n`), "flow maps");
  t.ok(findExcessNesting(`a: ${"- ".repeat(100_000)}x\n`.replace("a: ", "")), "block sequences on one line");
  const indented = Array.from({ length: 100 }, (_, depth) => `${" ".repeat(depth)}k${depth}:`).join("\n");
  t.same(findExcessNesting(indented), { line: MAX_NESTING_DEPTH + 1, depth: MAX_NESTING_DEPTH + 1 }, "block maps by indentation");
  const flowOverLines = `a: [\n${"[\n".repeat(200)}`;
  t.ok(findExcessNesting(flowOverLines), "flow collections over many lines");
});

t.test("exactly the limit passes; one more does not", async (t) => {
  t.equal(findExcessNesting(`${"[".repeat(MAX_NESTING_DEPTH - 1)}${"]".repeat(MAX_NESTING_DEPTH - 1)}`), undefined);
  t.ok(findExcessNesting(`${"[".repeat(MAX_NESTING_DEPTH + 1)}`));
});

t.test("what is not nesting is not counted", async (t) => {
  const brackets = Array.from({ length: 200 }, () => "");
  const text = [
    "services:",
    "  web:",
    `    command: "echo ${"[".repeat(200)}"`,
    `    stop: 'echo ${"{".repeat(200)} it''s'`,
    `    env: {A: a[1], B: "x]"} # ${"[".repeat(200)}`,
    "    warmup:",
    "      command: |",
    ...brackets.map((_, index) => `        ${" ".repeat(index)}[ ${"{".repeat(3)}`),
    "      interval: 1s",
    "  plain: {command: /x}",
  ].join("\n");
  t.equal(findExcessNesting(text), undefined);
});

t.test("every config and book fixture passes", async (t) => {
  for (const dir of ["config", "books"]) {
    for (const name of readdirSync(join(FIXTURES, dir)).filter((file) => file.endsWith(".yaml"))) {
      t.equal(findExcessNesting(readFileSync(join(FIXTURES, dir, name), "utf8")), undefined, `${dir}/${name}`);
    }
  }
});

t.test("a deep config and a deep book end in a usage-style error about nesting, not a stack overflow", async (t) => {
  const dir = t.testdir({
    "deep.yaml": `services:\n  a: {command: ${"[".repeat(100_000)}x${"]".repeat(100_000)}}\n`,
    "deep.book.yaml": `name: app\nhome: /srv/app\nenv: ${"{a: ".repeat(100_000)}x${"}".repeat(100_000)}\n`,
  });
  const config = await loadConfig({ path: join(dir, "deep.yaml"), env: {}, isRoot: true });
  t.same(config.ok ? [] : config.errors, [`${join(dir, "deep.yaml")}:2: nested more than 64 levels deep (lists and maps inside each other): refused before parsing`]);
  const book = await loadBook(join(dir, "deep.book.yaml"));
  t.same(book.ok ? [] : book.errors, [`${join(dir, "deep.book.yaml")}:3: nested more than 64 levels deep (lists and maps inside each other): refused before parsing`]);
});

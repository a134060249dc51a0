import t from "tap";
import { parseYamlText } from "../../src/config/yaml-text.ts";

t.test("scalars stay the text that was written", async (t) => {
  const result = await parseYamlText("a: no\nb: 1.10\nc: 0755\nd: true\ne:\nf: ~\ng: 'null'\nh: [1, on]\n", "f.yaml");
  t.ok(result.ok);
  t.same(result.ok && result.value, { a: "no", b: "1.10", c: "0755", d: "true", e: null, f: null, g: "null", h: ["1", "on"] });
});

t.test("maps have no prototype to pollute", async (t) => {
  const result = await parseYamlText("__proto__: {polluted: yes}\n? [a, b]\n: list key\n", "f.yaml");
  const value = result.ok ? (result.value as Record<string, unknown>) : {};
  t.same(Object.keys(value), ["__proto__", '["a","b"]']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test("syntax errors: file:line:col, every one", async (t) => {
  t.same(await parseYamlText("a: 1\na: 2\nb: [x\n", "f.yaml"), {
    ok: false,
    errors: [
      "f.yaml:2:1: Map keys must be unique",
      "f.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  });
  t.same(await parseYamlText("a: 1\n---\nb: 2\n", "f.yaml"), {
    ok: false,
    errors: ["f.yaml:2:1: more than one YAML document (a second ---): the config is one document"],
  });
});

t.test("alias bombs are refused", async (t) => {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 8; i++) levels.push(`${"abcdefgh"[i]}: &${"abcdefgh"[i]} [${Array(10).fill(`*${"abcdefgh"[i - 1]}`).join(", ")}]`);
  const result = await parseYamlText(`${levels.join("\n")}\n`, "f.yaml");
  t.equal(result.ok, false);
  t.match(result.ok ? [] : result.errors, [/^f\.yaml: Excessive alias count/]);
});

t.test("a 100k-deep document is refused before parsing, naming the depth and the line (issue 13, rough edge)", async (t) => {
  const before = process.memoryUsage().rss;
  const result = await parseYamlText(`services:\n  a:\n    command: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`, "deep.yaml");
  t.same(result, { ok: false, errors: ["deep.yaml:3: nested more than 64 levels deep (lists and maps inside each other): refused before parsing"] });
  t.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, "no parser ran up hundreds of MiB");
});

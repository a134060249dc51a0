// The simple reader against the yaml library: wherever it answers, it must
// answer what the library gives (parseFullYaml), prototypes included; where
// the library finds an error or a warning, it must leave the text to it.
import t from "tap";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseSimpleYaml } from "../../src/config/yaml-simple.ts";
import { parseFullYaml } from "../../src/config/yaml-text.ts";

const ROOT = join(import.meta.dirname, "../..");

/** A value as text that tells a map without a prototype from one with, and keeps key order. */
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const kind = Object.getPrototypeOf(value) === null ? "map" : "object";
    return `${kind}{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return value === undefined ? "undefined" : JSON.stringify(value);
};

/** "simple", "full" (left to the library, fine), or a mismatch described. */
const compare = async (text: string): Promise<{ taken: boolean; problem?: string }> => {
  const simple = parseSimpleYaml(text);
  if (simple === undefined) return { taken: false };
  const full = await parseFullYaml(text, "f.yaml");
  if (!full.ok) return { taken: true, problem: `the library refuses it (${full.errors.join("; ")}), the simple reader gave ${canonical(simple.value)}` };
  if (full.warnings.length > 0) return { taken: true, problem: `the library warns (${full.warnings.join("; ")})` };
  if (canonical(full.value) !== canonical(simple.value)) return { taken: true, problem: `library ${canonical(full.value)} != simple ${canonical(simple.value)}` };
  return { taken: true };
};

const yamlFilesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });

t.test("every YAML file in the repository: the same value as the library, or left to it", async (t) => {
  const files = ["examples", "images", "test/fixtures"].flatMap(yamlFilesUnder);
  t.ok(files.length > 30, `${files.length} files`);
  for (const file of files) {
    // The examples' @NAME@ placeholders are filled in before boxinit reads them.
    const text = readFileSync(join(ROOT, file), "utf8").replaceAll(/@[A-Z]+@/g, "/tmp/demo");
    const result = await compare(text);
    t.equal(result.problem, undefined, file);
  }
});

t.test("the configs users start from take the simple way", async (t) => {
  for (const file of ["examples/mini-vm/boxinit.yaml", "examples/postgres/boxinit.yaml", "images/confluence/boxinit.yaml", "images/tomcat/boxinit.yaml", "test/fixtures/config/full.yaml", "test/fixtures/config/good.yaml"]) {
    const text = readFileSync(join(ROOT, file), "utf8").replaceAll(/@[A-Z]+@/g, "/tmp/demo");
    t.ok(parseSimpleYaml(text), file);
  }
});

t.test("what it reads, and what it leaves to the library", async (t) => {
  const taken: [string, unknown][] = [
    ["", null],
    ["# only a comment\n\n", null],
    ["a: no\nb: 1.10\nc: 0755\nd: true\ne:\nf: ~\ng: 'null'\nh: [1, on]\n", { a: "no", b: "1.10", c: "0755", d: "true", e: null, f: null, g: "null", h: ["1", "on"] }],
    ["a: Null\nb: NULL\nc: nULL\nd: \"~\"\n", { a: null, b: null, c: "nULL", d: "~" }],
    ["url: http://localhost:8090/x # the check\n", { url: "http://localhost:8090/x" }],
    ["a: b#c\n", { a: "b#c" }],
    ["cmd: [java, -Xmx1g, --flag, \"a b\", 'it''s']\n", { cmd: ["java", "-Xmx1g", "--flag", "a b", "it's"] }],
    ["env: {A: \"1\", B: x y, C: ~}\n", { env: { A: "1", B: "x y", C: null } }],
    ["list:\n- a\n- b\nnext: c\n", { list: ["a", "b"], next: "c" }],
    ["list:\n  -\n    k: v\n  - -x\n", { list: [{ k: "v" }, "-x"] }],
    // JSON.parse: in an object literal `__proto__` would set the prototype, not a key.
    ["__proto__: x\nconstructor: y\n", JSON.parse('{"__proto__": "x", "constructor": "y"}')],
    ["q: \"tab\\there \\u00e9 \\x41 \\\\ \\\"\"\n", { q: "tab\there \u00e9 A \\ \"" }],
    ["e: []\nf: {}\ng: ''\n", { e: [], f: {}, g: "" }],
  ];
  for (const [text, expected] of taken) {
    const simple = parseSimpleYaml(text);
    t.ok(simple, `taken: ${JSON.stringify(text)}`);
    t.equal(canonical(simple?.value), canonical(toNullPrototype(expected)), JSON.stringify(text));
    t.equal((await compare(text)).problem, undefined, `the library agrees: ${JSON.stringify(text)}`);
  }
  const left = [
    "a: 1\na: 2\n", // duplicate key: the library's error
    "a: &x 1\nb: *x\n", // anchors and aliases
    "a: |\n  text\n", // block scalars
    "a: long\n  plain\n", // a scalar over two lines
    "a: \"two\n  lines\"\n",
    "a:\tb\n", // a tab
    "a: b\r\n", // CRLF
    "a: caf\u00e9\n", // not ASCII
    "---\na: b\n",
    "- a: b\n", // a map in a list, on the entry's line
    "a: b: c\n",
    "? a\n: b\n",
    "a: [x, [y]]\n",
    "a: [x, ]\n",
    "a: !tag x\n",
    "~: x\n",
    "a: 'x'junk\n",
    "just a scalar\n",
    "a:\n    b: 1\n  c: 2\n", // uneven indentation
  ];
  for (const text of left) t.equal(parseSimpleYaml(text), undefined, `left: ${JSON.stringify(text)}`);
});

/** Plain objects of an expectation as the readers make maps: without a prototype. */
function toNullPrototype(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toNullPrototype);
  if (typeof value !== "object" || value === null) return value;
  const map: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) map[key] = toNullPrototype((value as Record<string, unknown>)[key]);
  return map;
}

// Generated documents: random trees written in random styles, with scalars
// from an alphabet of YAML's special characters, then some of them mutated
// one character at a time. A seeded generator: a failure repeats.
// mulberry32: 32-bit integer steps (Math.imul), exact in a double.
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let mixed = Math.imul(seed ^ (seed >>> 15), seed | 1);
  mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
};

// Half the documents take their scalars from the tame pieces only: those the
// simple reader mostly takes, so that its deeper structures are compared too.
const TAME_PIECES = ["a", "b", "x1", " ", "/", ".", "0", "-x", "http://h:1/", "~", "null", "a#b", "'", '"'];
const PIECES = ["a", "b", "x1", " ", "  ", ":", ": ", "-", "- ", "#", " #", "'", '"', ",", "[", "]", "{", "}", "~", "null", "Null", "\\", "\\n", "\\u0041", "?", "&", "*", "!", "|", ">", "%", "@", "`", "/", ".", "http://h:1/", "<<", "__proto__", "0", "-x"];

t.test("generated documents: the same value as the library, or left to it", async (t) => {
  const next = random(Number(process.env.YAML_SIMPLE_SEED ?? 17));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  let pieces = PIECES;
  const scalarText = (): string => {
    const raw = Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(pieces)).join("");
    const style = next();
    if (style < 0.6) return raw;
    if (style < 0.8) return `'${raw.replaceAll("'", "''")}'`;
    return `"${raw.replaceAll('"', '\\"')}"`;
  };
  const keyText = (): string => (next() < 0.8 ? pick(["a", "b", "c", "name", "cmd", "env", "x-y", "1", "k:v"]) : scalarText());
  const comment = (): string => (next() < 0.15 ? ` # ${pick(PIECES)}` : "");
  const flow = (): string => {
    const items = Array.from({ length: Math.floor(next() * 4) }, () => scalarText());
    return next() < 0.5 ? `[${items.join(pick([", ", ",", " , "]))}]` : `{${items.map((item) => `${keyText()}: ${item}`).join(", ")}}`;
  };
  const block = (indent: number, depth: number): string[] => {
    const pad = " ".repeat(indent);
    const lines: string[] = [];
    const isList = next() < 0.35;
    for (let i = 0, count = 1 + Math.floor(next() * 4); i < count; i++) {
      const head = isList ? `${pad}-` : `${pad}${keyText()}:`;
      const kind = next();
      if (depth < 3 && kind < 0.25) {
        lines.push(`${head}${comment()}`, ...block(indent + pick([1, 2, 4]), depth + 1));
      } else if (kind < 0.4) {
        lines.push(`${head} ${flow()}${comment()}`);
      } else if (kind < 0.45) {
        lines.push(`${head}${comment()}`);
      } else {
        lines.push(`${head} ${scalarText()}${comment()}`);
      }
      if (next() < 0.1) lines.push(pick(["", "# note", `${pad}  # deeper note`]));
    }
    return lines;
  };
  let taken = 0;
  let problems = 0;
  const documents = Number(process.env.YAML_SIMPLE_DOCUMENTS ?? 3000);
  for (let i = 0; i < documents; i++) {
    pieces = next() < 0.5 ? TAME_PIECES : PIECES;
    let text = `${block(0, 0).join("\n")}\n`;
    if (next() < 0.3) {
      const at = Math.floor(next() * text.length);
      text = text.slice(0, at) + pick([" ", ":", "-", "#", "'", '"', "\n", "  ", "[", "~"]) + text.slice(at + (next() < 0.5 ? 1 : 0));
    }
    const result = await compare(text);
    if (result.taken) taken++;
    if (result.problem !== undefined && problems++ < 10) t.fail(`${JSON.stringify(text)}: ${result.problem}`);
  }
  t.equal(problems, 0, `no disagreement in ${documents} documents`);
  // Not a vacuous comparison: a good share is read by the simple reader.
  t.ok(taken > documents / 4, `${taken} of ${documents} taken by the simple reader`);
});

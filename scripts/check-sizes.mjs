#!/usr/bin/env node
// Checks the sizes of src/ (docs/architecture.md, "Sizes"): no file over 300
// lines, no function (declaration, function expression, arrow, method,
// constructor, accessor) over 60, unless a comment says why. Exit 1 with one
// line per breach: file:line, the name, the length.
//
// The reason: a comment directly above the function (above the statement that
// names it: `export const f = () => {` has it above `export`) containing
// "Over 60 lines on purpose:" and then the reason; for a file, its header
// comment (the comments before the first line of code) containing
// "Over 300 lines on purpose:" and the reason. Line breaks and comment
// markers inside the phrase do not matter.
//
// scripts/size-allowlist.txt lists breaches that are pending elsewhere, one
// "path[:function] reason" a line ("path" alone: the file rule; the function
// as this script names it). An entry that matches nothing any more is printed
// as a note, not an error.
//
// Usage: node scripts/check-sizes.mjs [--allowlist FILE] [DIR...] (default: src),
// run from the repository root.
//
// TypeScript is parsed by @swc/core (a devDependency; dependency-cruiser uses
// it too); its spans are 1-based UTF-8 byte offsets into the source.
import { parseSync } from "@swc/core";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 60;
const FILE_MARKER = /\bOver 300 lines on purpose:\s*\S/i;
const FUNCTION_MARKER = /\bOver 60 lines on purpose:\s*\S/i;
// Paths are read and printed relative to the working directory (make runs in the repository).
const root = process.cwd();
const DEFAULT_ALLOWLIST = resolve(import.meta.dirname, "size-allowlist.txt");

/** Every .ts/.cjs/.js/.mjs file under dir, sorted, as paths relative to the repository. */
const sourcesUnder = (dir) =>
  readdirSync(resolve(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|cjs|mjs|js)$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();

/** A comment's text without its markers, lines joined by one space. */
const commentText = (lines) =>
  lines
    .map((line) => line.trim().replace(/^\/\/+|^\/\*+|\*+\/$|^\*+/g, "").trim())
    .join(" ")
    .replace(/\s+/g, " ");

/** The comment lines directly above line index `at` (0-based): `//` lines and `/* … *\/` blocks, no blank line between. */
const commentAbove = (lines, at) => {
  const found = [];
  let i = at - 1;
  while (i >= 0) {
    const line = lines[i].trim();
    if (line.startsWith("//")) {
      found.unshift(line);
      i -= 1;
    } else if (line.endsWith("*/")) {
      let start = i;
      while (start > 0 && !lines[start].trim().startsWith("/*")) start -= 1;
      found.unshift(...lines.slice(start, i + 1));
      i = start - 1;
    } else if (line.startsWith("@")) {
      i -= 1; // a decorator between the comment and the member
    } else break;
  }
  return commentText(found);
};

/** The file's header: every comment line before the first line of code (blank lines and a #! line allowed). */
const headerComment = (lines) => {
  const found = [];
  let inBlock = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (inBlock) {
      found.push(line);
      if (line.endsWith("*/")) inBlock = false;
    } else if (line === "" || line.startsWith("#!")) continue;
    else if (line.startsWith("//")) found.push(line);
    else if (line.startsWith("/*")) {
      found.push(line);
      inBlock = !line.endsWith("*/");
    } else break;
  }
  return commentText(found);
};

const FUNCTION_TYPES = new Set([
  "FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression",
  "ClassMethod", "PrivateMethod", "Constructor", "MethodProperty", "GetterProperty", "SetterProperty",
]);
// Nodes whose start is where a function's comment sits, when the function is their value.
const WRAPPERS = new Set([
  "VariableDeclarator", "VariableDeclaration", "ExportDeclaration", "ExportDefaultDeclaration",
  "ExportDefaultExpression", "ClassProperty", "PrivateProperty", "KeyValueProperty",
  "ParenthesisExpression", "TsAsExpression", "TsSatisfiesExpression", "ExpressionStatement",
  "AssignmentExpression",
]);

/** A property key's text: `name`, `#name`, `"name"`, or `[computed]`. */
const keyName = (key) => {
  if (!key) return undefined;
  if (key.type === "Identifier") return key.value;
  if (key.type === "PrivateName") return `#${key.id?.value ?? key.value}`;
  if (key.type === "StringLiteral" || key.type === "NumericLiteral") return String(key.value);
  return "[computed]";
};

/** What a function is called: its own name, or what it is assigned to, qualified by its class or object. */
const functionName = (node, parents, scope) => {
  if (node.type === "Constructor") return `${scope}.constructor`;
  if (["ClassMethod", "PrivateMethod", "MethodProperty", "GetterProperty", "SetterProperty"].includes(node.type)) {
    return `${scope}.${keyName(node.key)}`;
  }
  if (node.identifier?.value) return node.identifier.value;
  for (let i = parents.length - 1; i >= 0; i--) {
    const parent = parents[i];
    if (parent.type === "VariableDeclarator" && parent.id?.type === "Identifier") return parent.id.value;
    if (["ClassProperty", "PrivateProperty", "KeyValueProperty"].includes(parent.type)) return `${scope}.${keyName(parent.key)}`;
    if (!WRAPPERS.has(parent.type)) break;
  }
  return `${scope}/${node.type === "ArrowFunctionExpression" ? "arrow" : "function"}`;
};

/** The outermost wrapper whose value the function is: where its comment sits. */
const anchorOf = (node, parents) => {
  let anchor = node;
  for (let i = parents.length - 1; i >= 0 && WRAPPERS.has(parents[i].type); i--) anchor = parents[i];
  return anchor;
};

/** Every function of a module with its name and span (start of its comment's anchor, its own start and end). */
const functionsOf = (module) => {
  const found = [];
  const walk = (node, parents, scope) => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, parents, scope);
      return;
    }
    if (!node || typeof node !== "object") return;
    let inner = scope;
    if (typeof node.type === "string") {
      if (FUNCTION_TYPES.has(node.type)) {
        const name = functionName(node, parents, scope);
        found.push({ name, span: node.span, anchor: anchorOf(node, parents).span });
        inner = name;
      } else if ((node.type === "ClassDeclaration" || node.type === "ClassExpression") && node.identifier?.value) {
        inner = node.identifier.value;
      } else if (node.type === "VariableDeclarator" && node.id?.type === "Identifier") {
        inner = node.id.value;
      }
    }
    const next = typeof node.type === "string" ? [...parents, node] : parents;
    for (const [key, value] of Object.entries(node)) {
      if (key !== "span" && value && typeof value === "object") walk(value, next, inner);
    }
  };
  walk(module.body, [], "(top)");
  return found;
};

/** The breaches of one file, each { path, line, name, lines, limit, rule }. */
const checkFile = (path) => {
  const source = readFileSync(resolve(root, path), "utf8");
  const bytes = Buffer.from(source, "utf8");
  const lines = source.split("\n");
  const fileLines = source.endsWith("\n") ? lines.length - 1 : lines.length;
  // Line index (0-based) of each 1-based byte position swc reports.
  const lineStarts = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) lineStarts.push(i + 1);
  const lineOf = (position) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (lineStarts[middle] <= position - 1) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  const breaches = [];
  if (fileLines > MAX_FILE_LINES && !FILE_MARKER.test(headerComment(lines))) {
    breaches.push({ path, line: 1, name: undefined, lines: fileLines, limit: MAX_FILE_LINES });
  }
  const module = parseSync(source, { syntax: path.endsWith(".ts") ? "typescript" : "ecmascript", decorators: true });
  for (const fn of functionsOf(module)) {
    const start = lineOf(fn.span.start);
    const length = lineOf(fn.span.end - 1) - start + 1;
    if (length <= MAX_FUNCTION_LINES) continue;
    if (FUNCTION_MARKER.test(commentAbove(lines, lineOf(fn.anchor.start)))) continue;
    breaches.push({ path, line: start + 1, name: fn.name, lines: length, limit: MAX_FUNCTION_LINES });
  }
  return breaches;
};

/** The allowlist: entries "path[:function]" each with a reason; # comments and blank lines skipped. */
const readAllowlist = (file) => {
  if (!existsSync(file)) return { entries: new Map(), problems: [] };
  const entries = new Map();
  const problems = [];
  readFileSync(file, "utf8").split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [entry, ...reason] = line.split(/\s+/);
    if (reason.length === 0) problems.push(`${relative(root, file)}:${index + 1}: ${entry}: no reason given`);
    else entries.set(entry, false);
  });
  return { entries, problems };
};

const main = (argv) => {
  let allowlist = DEFAULT_ALLOWLIST;
  const dirs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--allowlist") allowlist = resolve(argv[++i] ?? "");
    else dirs.push(argv[i]);
  }
  const { entries, problems } = readAllowlist(allowlist);
  const breaches = (dirs.length > 0 ? dirs : ["src"]).flatMap(sourcesUnder).flatMap(checkFile);
  const failures = [...problems];
  for (const breach of breaches) {
    const key = breach.name === undefined ? breach.path : `${breach.path}:${breach.name}`;
    if (entries.has(key)) {
      entries.set(key, true);
      continue;
    }
    failures.push(breach.name === undefined
      ? `${breach.path}:1: file is ${breach.lines} lines (over ${breach.limit}): split it by concern, or say why in its header comment ("Over 300 lines on purpose: ...")`
      : `${breach.path}:${breach.line}: ${breach.name} is ${breach.lines} lines (over ${breach.limit}): shorten it, or say why in a comment directly above it ("Over 60 lines on purpose: ...")`);
  }
  for (const [entry, isUsed] of entries) {
    if (!isUsed) console.log(`check-sizes: note: ${relative(root, allowlist)}: ${entry} is within the limits now: remove the entry`);
  }
  if (failures.length === 0) return 0;
  for (const failure of failures) console.error(failure);
  console.error(`check-sizes: ${failures.length} over the limits (docs/architecture.md, "Sizes")`);
  return 1;
};

process.exitCode = main(process.argv.slice(2));

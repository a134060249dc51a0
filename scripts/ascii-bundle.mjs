// Build step: makes a bundle pure ASCII, in place. esbuild already escapes
// every non-ASCII character in strings, templates, regular expressions and
// names (its default --charset=ascii), but not in the comments it keeps (a
// JSDoc comment in a class body); one "⇄" there made the whole 285 KB modes
// bundle a two-byte string in V8: reading the asset and compiling it with its
// code cache took ~2.8 ms more CPU on every Mini-VM start (docs/resources.md).
// In a comment the escape is only text, so the code is unchanged.
// usage: node scripts/ascii-bundle.mjs FILE...
import { readFileSync, writeFileSync } from "node:fs";

for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\x00-\x7f]/gu, (char) => `\\u{${char.codePointAt(0).toString(16)}}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

#!/usr/bin/env node
// Checks every relative link in the given Markdown files (default: README.md,
// CHANGELOG.md, docs/*.md): the file or directory exists, and a #anchor names
// a heading of the target page (GitHub's slugs). Exit 1 with one line per
// broken link. Links inside code blocks and inline code are not links.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const slugsCache = new Map();

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeats numbered. */
const slugsOf = (file) => {
  if (slugsCache.has(file)) return slugsCache.get(file);
  const seen = new Map();
  const slugs = new Set();
  let inFence = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  slugsCache.set(file, slugs);
  return slugs;
};

/** [text](target) outside code, with its line number. */
const linksOf = (file) => {
  const links = [];
  let inFence = false;
  readFileSync(file, "utf8").split("\n").forEach((line, index) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return;
    }
    if (inFence) return;
    const prose = line.replace(/`[^`]*`/g, "");
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ target: match[1], line: index + 1 });
  });
  return links;
};

const args = process.argv.slice(2);
const files = args.length > 0 ? args : ["README.md", "CHANGELOG.md", ...readdirSync("docs").filter((name) => name.endsWith(".md")).map((name) => join("docs", name))];
const problems = [];
for (const file of files.filter((name) => existsSync(name))) {
  for (const { target, line } of linksOf(file)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [pathPart, anchor] = target.split("#", 2);
    const path = pathPart === "" ? resolve(file) : resolve(dirname(file), decodeURIComponent(pathPart));
    if (!existsSync(path)) {
      problems.push(`${file}:${line}: ${target}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!statSync(path).isFile() || !path.endsWith(".md")) {
      problems.push(`${file}:${line}: ${target}: an anchor into something that is not a Markdown file`);
      continue;
    }
    if (!slugsOf(path).has(anchor)) problems.push(`${file}:${line}: ${target}: no heading with anchor #${anchor}`);
  }
}
for (const problem of problems) console.log(problem);
console.log(`doc links: ${problems.length === 0 ? "all resolve" : `${problems.length} broken`} (${files.length} files)`);
process.exit(problems.length === 0 ? 0 : 1);

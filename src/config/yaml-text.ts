// YAML text → plain maps, lists and strings. Scalars are kept as the text the
// user wrote (the failsafe schema, plus null): `restart: no` stays "no" whatever
// the YAML version, `1.10` stays "1.10", and each reader decides what it accepts.
import type { YAMLError } from "yaml";
import { loadLibrary } from "../lazy/loader.ts";
import { findExcessNesting, MAX_NESTING_DEPTH } from "./yaml-depth.ts";
import { parseSimpleYaml } from "./yaml-simple.ts";

export type YamlResult = { ok: true; value: unknown; warnings: string[] } | { ok: false; errors: string[] };

/** Aliases may not expand beyond this many nodes (the "billion laughs" guard). */
const MAX_ALIAS_COUNT = 100;

/** Map → null-prototype object (so `__proto__` is an ordinary key), recursively. */
const toPlain = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(toPlain);
  if (!(value instanceof Map)) return value;
  const map: Record<string, unknown> = Object.create(null);
  for (const [key, item] of value) {
    // A list or map used as a key has no name to write; its JSON makes it an unknown key.
    map[typeof key === "string" ? key : JSON.stringify(toPlain(key))] = toPlain(item);
  }
  return map;
};

/** yaml's own text, except where it speaks to programmers rather than to whoever edits the file. */
const describeYamlError = (error: YAMLError): string =>
  error.code === "MULTIPLE_DOCS" ? "more than one YAML document (a second ---): the config is one document" : error.message;

/**
 * Parse one YAML document; problems are `<file>:<line>:<col>: <message>`.
 * A text of the common shape is read without the yaml library (yaml-simple.ts).
 */
export const parseYamlText = async (text: string, file: string): Promise<YamlResult> => {
  // Before the parser: it recurses once per level (as does all that reads its result).
  const tooDeep = findExcessNesting(text);
  if (tooDeep) {
    return { ok: false, errors: [`${file}:${tooDeep.line}: nested more than ${MAX_NESTING_DEPTH} levels deep (lists and maps inside each other): refused before parsing`] };
  }
  const simple = parseSimpleYaml(text);
  if (simple !== undefined) return { ok: true, value: simple.value, warnings: [] };
  return parseFullYaml(text, file);
};

/** The yaml library's parse of one document (parseYamlText's way for every text the simple reader leaves). */
export const parseFullYaml = async (text: string, file: string): Promise<YamlResult> => {
  const { LineCounter, parseDocument } = await loadLibrary("yaml");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: "failsafe", customTags: ["null"], prettyErrors: false, lineCounter });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const warnings = doc.warnings.map((warning) => `${where(warning.pos[0])}: ${warning.message}`);
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((error) => `${where(error.pos[0])}: ${describeYamlError(error)}`) };
  }
  try {
    // mapAsMap: object keys that are not strings would otherwise go through a process warning.
    return { ok: true, value: toPlain(doc.toJS({ mapAsMap: true, maxAliasCount: MAX_ALIAS_COUNT })), warnings };
  } catch (error) {
    // toJS throws only for alias abuse (too many expansions, an alias to nothing)
    return { ok: false, errors: [`${file}: ${(error as Error).message}`] };
  }
};

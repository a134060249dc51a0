// The common shape of a config, read without the yaml library. Loading that
// library and its first parse cost a Mini-VM start 8-10 ms of its ~75 before
// `running` (docs/resources.md), for files that are nearly always a few block
// maps, lists and one-line scalars. This reader takes exactly that shape
// (ASCII only, one-line plain, 'single' and "double" quoted scalars, block maps
// and lists, one-line [flow lists] and {flow maps} of scalars, comments) and
// gives what yaml-text.ts's full parse gives for it: the failsafe schema's
// strings, null for an empty value and for ~, null, Null and NULL written
// plain, maps without a prototype. Anything else, an error included, is not
// its to judge: it answers undefined and the full parser reads the text. The
// two are compared on every config in the repository and on generated
// documents (test/config/yaml-simple.test.ts).

/** Thrown inside the reader when the text leaves the common shape; never escapes. */
const NOT_SIMPLE = Symbol("not simple");

const leave = (): never => {
  throw NOT_SIMPLE;
};

/** Printable ASCII and line feeds only: no tabs, CRs, BOMs or characters YAML treats specially. */
const OUTSIDE_SHAPE = /[^\n\x20-\x7e]/;

/** Characters that may not begin a plain scalar (YAML's indicators; `-`, `?` and `:` only before a space are indicators, but are left to the full parser). */
const INDICATORS = new Set([..."-?:,[]{}#&*!|>'\"%@`"]);

/** A plain scalar that the failsafe schema plus `null` reads as null. */
const isNullWord = (text: string): boolean => text === "~" || text === "null" || text === "Null" || text === "NULL";

// Double-quoted escapes that map to one character; \x and \u are read apart.
const ESCAPES: Record<string, string> = {
  "\\": "\\", '"': '"', "/": "/", n: "\n", t: "\t", r: "\r", "0": "\0", b: "\b", f: "\f", e: "\x1b", a: "\x07", v: "\v", " ": " ",
};

interface Line {
  indent: number;
  /** The line without its indentation (never blank, never a comment). */
  text: string;
}

/** A scalar, or a one-line flow collection, and the index just after it. */
type Read = { value: unknown; end: number };

const readDoubleQuoted = (text: string, start: number): Read => {
  let value = "";
  for (let at = start + 1; at < text.length; at++) {
    const char = text[at]!;
    if (char === '"') return { value, end: at + 1 };
    if (char !== "\\") {
      value += char;
      continue;
    }
    const escape = text[++at] ?? leave();
    const hexLength = escape === "x" ? 2 : escape === "u" ? 4 : 0;
    if (hexLength === 0) {
      value += Object.hasOwn(ESCAPES, escape) ? ESCAPES[escape] : leave();
      continue;
    }
    const hex = text.slice(at + 1, at + 1 + hexLength);
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength) leave();
    const code = Number.parseInt(hex, 16);
    // A lone surrogate half is the full parser's to judge.
    if (code >= 0xd800 && code <= 0xdfff) leave();
    value += String.fromCharCode(code);
    at += hexLength;
  }
  return leave(); // unclosed: it goes on to another line, or is an error
};

const readSingleQuoted = (text: string, start: number): Read => {
  let value = "";
  for (let at = start + 1; at < text.length; at++) {
    if (text[at] !== "'") {
      value += text[at];
    } else if (text[at + 1] === "'") {
      value += "'";
      at++;
    } else {
      return { value, end: at + 1 };
    }
  }
  return leave();
};

/** `-` begins a plain scalar (`-Xmx1g`, `--verbose`) when a character that could follow it in one comes next. */
const startsWithDash = (text: string, start: number, closer: string | undefined): boolean => {
  const next = text[start + 1];
  return text[start] === "-" && next !== undefined && next !== " " && !(closer !== undefined && ",[]{}".includes(next));
};

/**
 * A plain scalar from start: in a block to the line's end or a comment; in a
 * flow collection also to `,` or the collection's closing bracket. A `: `
 * inside (a nested map) or a bracket (a nested collection) leaves the shape.
 */
const readPlain = (text: string, start: number, closer: string | undefined): Read => {
  if (INDICATORS.has(text[start]!) && !startsWithDash(text, start, closer)) leave();
  let at = start;
  for (; at < text.length; at++) {
    const char = text[at]!;
    if (char === "#" && text[at - 1] === " ") break;
    if (closer !== undefined && (char === "," || char === closer)) break;
    if (char === ":" && (at + 1 === text.length || text[at + 1] === " " || (closer !== undefined && ",]}".includes(text[at + 1]!)))) leave();
    if (closer !== undefined && "[]{}".includes(char)) leave();
  }
  const word = text.slice(start, at).trimEnd();
  return { value: isNullWord(word) ? null : word, end: at };
};

/** A scalar (not a collection) at start, quoted or plain. */
const readScalar = (text: string, start: number, closer: string | undefined): Read => {
  if (text[start] === '"') return readDoubleQuoted(text, start);
  if (text[start] === "'") return readSingleQuoted(text, start);
  return readPlain(text, start, closer);
};

const skipSpaces = (text: string, at: number): number => {
  while (text[at] === " ") at++;
  return at;
};

/** A flow map's key: plain, up to the `: ` before its value. */
const readFlowKey = (text: string, start: number): { key: string; end: number } => {
  if (INDICATORS.has(text[start]!)) leave();
  let at = start;
  while (at < text.length && !(text[at] === ":" && text[at + 1] === " ")) {
    if (",[]{}#".includes(text[at]!)) leave();
    at++;
  }
  const key = text.slice(start, at);
  // `: ` not found, a space before it, or a key the full parser turns into "null".
  if (at === text.length || key.endsWith(" ") || isNullWord(key)) leave();
  return { key, end: at + 2 };
};

/** `[a, "b", c]` or `{k: v, k2: "v2"}` of scalars, on one line. */
const readFlow = (text: string, start: number): Read => {
  const isMap = text[start] === "{";
  const closer = isMap ? "}" : "]";
  const list: unknown[] = [];
  const map: Record<string, unknown> = Object.create(null);
  let at = skipSpaces(text, start + 1);
  if (text[at] === closer) return { value: isMap ? map : list, end: at + 1 };
  for (;;) {
    let key: string | undefined;
    if (isMap) {
      const read = readFlowKey(text, at);
      if (read.key in map) leave(); // a duplicate: the full parser's error
      key = read.key;
      at = skipSpaces(text, read.end);
    }
    const item = readScalar(text, at, closer);
    // An empty entry (`[a, , b]`, `{k: }`): an error, or a null, the full parser's to say.
    if (item.end === at || (item.value === "" && text[at] !== '"' && text[at] !== "'")) leave();
    if (key === undefined) list.push(item.value);
    else map[key] = item.value;
    at = skipSpaces(text, item.end);
    if (text[at] === closer) break;
    if (text[at] !== ",") leave();
    at = skipSpaces(text, at + 1);
    if (text[at] === closer) leave(); // a trailing comma
  }
  return { value: isMap ? map : list, end: at + 1 };
};

/** The value written after `key: ` or `- `: a scalar or a flow collection, then at most a comment. */
const readInline = (text: string, start: number): unknown => {
  const read = text[start] === "[" || text[start] === "{" ? readFlow(text, start) : readScalar(text, start, undefined);
  const rest = text.slice(read.end);
  // Then nothing, or a comment: a `#` after a space (a plain scalar ends
  // before the `#`, its spaces taken and trimmed; `"a"#b` is no comment).
  if (rest.trim() !== "" && !(/^ *#/.test(rest) && (rest[0] === " " || text[read.end - 1] === " "))) leave();
  return read.value;
};

const isListEntry = (line: Line): boolean => line.text === "-" || line.text.startsWith("- ");

/** Whether an inline value is absent: nothing, or only a comment. */
const isEmptyValue = (rest: string): boolean => rest.trim() === "" || /^ +#/.test(rest);

class Reader {
  #at = 0;
  readonly #lines: readonly Line[];

  constructor(lines: readonly Line[]) {
    this.#lines = lines;
  }

  /** The whole document: one block collection at the first line's indentation, nothing after it. */
  document(): unknown {
    if (this.#lines.length === 0) return null;
    const value = this.#block(this.#lines[0]!.indent);
    if (this.#at < this.#lines.length) leave();
    return value;
  }

  #peek(): Line | undefined {
    return this.#lines[this.#at];
  }

  #block(indent: number): unknown {
    return isListEntry(this.#peek()!) ? this.#list(indent) : this.#map(indent);
  }

  /** The value of `key:` or `-` with nothing after it: a block below, a list at the key's own indentation, or null. */
  #nested(indent: number, allowSameIndentList: boolean): unknown {
    const next = this.#peek();
    if (next !== undefined && next.indent > indent) return this.#block(next.indent);
    if (allowSameIndentList && next !== undefined && next.indent === indent && isListEntry(next)) return this.#list(indent);
    return null;
  }

  /** After an inline value: a deeper line would continue it (a multi-line scalar), which this reader leaves. */
  #endOfEntry(indent: number): void {
    const next = this.#peek();
    if (next !== undefined && next.indent > indent) leave();
  }

  #map(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = Object.create(null);
    for (let line = this.#peek(); line !== undefined && line.indent === indent && !isListEntry(line); line = this.#peek()) {
      const { text } = line;
      const colon = text.search(/:( |$)/);
      if (colon <= 0) leave();
      const key = text.slice(0, colon);
      // A key the full parser reads otherwise (quoted, an indicator, a comment, a merge, "null") or twice.
      if (INDICATORS.has(key[0]!) || key.endsWith(" ") || key.includes(" #") || key === "<<" || isNullWord(key) || key in map) leave();
      this.#at++;
      const rest = text.slice(colon + 1);
      if (isEmptyValue(rest)) {
        map[key] = this.#nested(indent, true);
      } else {
        map[key] = readInline(text, skipSpaces(text, colon + 1));
        this.#endOfEntry(indent);
      }
    }
    if ((this.#peek()?.indent ?? -1) > indent) leave();
    return map;
  }

  #list(indent: number): unknown[] {
    const list: unknown[] = [];
    for (let line = this.#peek(); line !== undefined && line.indent === indent && isListEntry(line); line = this.#peek()) {
      this.#at++;
      const rest = line.text.slice(1);
      if (isEmptyValue(rest)) {
        list.push(this.#nested(indent, false));
        continue;
      }
      const start = skipSpaces(line.text, 1);
      // `- key: value` (a map in the list) and `- - x` are the full parser's.
      if (/:( |$)/.test(line.text.slice(start)) && !"[{'\"".includes(line.text[start]!)) leave();
      list.push(readInline(line.text, start));
      this.#endOfEntry(indent);
    }
    if ((this.#peek()?.indent ?? -1) > indent) leave();
    return list;
  }
}

/** The text's lines that hold something: no blank lines, no comment lines. */
const contentLines = (text: string): Line[] => {
  const lines: Line[] = [];
  for (const raw of text.split("\n")) {
    const indent = skipSpaces(raw, 0);
    const rest = raw.slice(indent);
    if (rest === "" || rest.startsWith("#")) continue;
    // Document markers and directives: the full parser's.
    if (indent === 0 && (rest.startsWith("---") || rest.startsWith("...") || rest.startsWith("%"))) leave();
    lines.push({ indent, text: rest.trimEnd() });
  }
  return lines;
};

/**
 * What yaml-text.ts's full parse gives for a text of the common shape
 * (`{ value }`), or undefined: the text is not of that shape, and the full
 * parser must read it. Never throws.
 */
export const parseSimpleYaml = (text: string): { value: unknown } | undefined => {
  if (OUTSIDE_SHAPE.test(text)) return undefined;
  try {
    return { value: new Reader(contentLines(text)).document() };
  } catch (error) {
    if (error === NOT_SIMPLE) return undefined;
    throw error;
  }
};

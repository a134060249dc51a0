// How deeply a YAML text nests, found by one pass over the characters before
// the parser sees it: the parser and everything after it recurse once per
// level, so a 100k-deep document ended in "Maximum call stack size exceeded"
// after ~290 MiB. An estimate that never undercounts: each indentation level,
// each `- ` or `? ` that opens a collection on a line, each `[` or `{` that
// opens a flow collection (outside quotes, comments and block scalars).

/** Far beyond any config or book (they nest a handful of levels), far below what recursion survives. */
export const MAX_NESTING_DEPTH = 64;

/** The first place where the text nests deeper than maxDepth, or undefined. */
export const findExcessNesting = (text: string, maxDepth = MAX_NESTING_DEPTH): { line: number; depth: number } | undefined => {
  const indents: number[] = [];
  let flowDepth = 0;
  let quote: "'" | '"' | undefined;
  // A block scalar (| or >) swallows the lines indented more than its parent line.
  let blockScalarParent: number | undefined;
  const lines = text.split("\n");
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex]!;
    let at = 0;
    while (line[at] === " ") at++;
    const isBlank = at === line.length || line[at] === "#" || line[at] === "\r";
    if (blockScalarParent !== undefined) {
      if (isBlank || at > blockScalarParent) continue;
      blockScalarParent = undefined;
    }
    let inlineDepth = 0;
    if (quote === undefined && flowDepth === 0 && !isBlank) {
      while (indents.length > 0 && indents.at(-1)! >= at) indents.pop();
      indents.push(at);
      // `- - x` and `? - x` open one collection per indicator on the same line.
      while ((line[at] === "-" || line[at] === "?") && (line[at + 1] === " " || at + 1 === line.length)) {
        inlineDepth++;
        at += 2;
        while (line[at] === " ") at++;
      }
    }
    let previous = " ";
    for (; at < line.length; at++) {
      const char = line[at]!;
      if (quote !== undefined) {
        if (char === "\\" && quote === '"') at++;
        else if (char === quote) quote = undefined;
        previous = char;
        continue;
      }
      const startsToken = previous === " " || previous === "\t" || "[{,:-?".includes(previous);
      if (char === "#" && (previous === " " || previous === "\t")) break;
      if ((char === "'" || char === '"') && startsToken) quote = char;
      else if ((char === "[" || char === "{") && (startsToken || flowDepth > 0)) {
        flowDepth++;
        // Checked here too: a whole document can open and close on one line.
        if (indents.length + inlineDepth + flowDepth > maxDepth) return { line: lineIndex + 1, depth: indents.length + inlineDepth + flowDepth };
      }
      else if ((char === "]" || char === "}") && flowDepth > 0) flowDepth--;
      else if ((char === "|" || char === ">") && startsToken && flowDepth === 0 && /^[|>][-+0-9]*\s*(#.*)?\r?$/.test(line.slice(at))) {
        blockScalarParent = indents.at(-1) ?? 0;
        break;
      }
      previous = char;
    }
    const depth = indents.length + inlineDepth + flowDepth;
    if (depth > maxDepth) return { line: lineIndex + 1, depth };
  }
  return undefined;
};

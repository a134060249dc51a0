// Entry of the separately bundled yaml (build/lazy/yaml.cjs); see loader.ts.
// The parser is a quarter of a megabyte: only a run that reads a config pays for it.
export { LineCounter, parseDocument } from "yaml";
export type { YAMLError } from "yaml";

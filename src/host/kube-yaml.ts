// The manifests as YAML: one stream for stdout (`---` between objects), or
// one file per object for `--out DIR`, named so that a plain `kubectl apply
// -f DIR` takes them in order (ConfigMap and claims before the workload).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadLibrary } from "../lazy/loader.ts";
import type { KubeObject } from "./kube-types.ts";

/**
 * One object as YAML. Every string is double-quoted: kubectl reads YAML
 * 1.1-style, where a plain `no`, `on` or `0:30` in an env value would become a
 * boolean or a number and be refused. yaml's parseDocument (the one entry of
 * the lazy yaml bundle) gives an empty document to put the object in.
 */
const objectYaml = async (object: KubeObject): Promise<string> => {
  const { parseDocument } = await loadLibrary("yaml");
  const document = parseDocument("", { version: "1.1" });
  // No anchors: the labels shared by several fields are written out each time.
  document.contents = document.createNode(object, { aliasDuplicateObjects: false }) as typeof document.contents;
  return document.toString({ lineWidth: 0, defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" });
};

/** `# line` comments: who made the manifests and what decided their choices. */
const header = (lines: readonly string[]): string => lines.map((line) => `# ${line.replace(/[\r\n]+/g, " ")}\n`).join("");

/** The stream printed on stdout: the header, then each object after `---`. */
export const kubeStream = async (objects: readonly KubeObject[], notes: readonly string[]): Promise<string> => {
  const parts = await Promise.all(objects.map(async (object) => `---\n${await objectYaml(object)}`));
  return `${header(notes)}${parts.join("")}`;
};

/** `01-configmap-NAME.yaml`: the apply order, then what is inside. */
export const kubeFileName = (object: KubeObject, index: number): string =>
  `${String(index + 1).padStart(2, "0")}-${object.kind.toLowerCase()}-${object.metadata.name}.yaml`;

/** Write one file per object into `dir` (created if needed); returns the files written. */
export const writeKubeFiles = async (dir: string, objects: readonly KubeObject[], notes: readonly string[]): Promise<string[]> => {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [index, object] of objects.entries()) {
    const file = join(dir, kubeFileName(object, index));
    writeFileSync(file, `${header(notes)}${await objectYaml(object)}`);
    files.push(file);
  }
  return files;
};

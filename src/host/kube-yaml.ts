// The manifests as YAML: one stream for stdout (`---` between objects), or
// one file per object for `--out DIR`, named so that a plain `kubectl apply
// -f DIR` takes them in order (ConfigMap and claims before the workload).
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
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

/** The first line of every file host kube writes: how an earlier run's files are told from the user's own. */
export const KUBE_HEADER = "boxinit host kube";

/**
 * An earlier run's files that this run does not write again (an object the
 * book no longer has): `kubectl apply -f DIR` would apply them. Only files
 * that start with host kube's header are taken; anything else in DIR is left.
 */
const staleFiles = (dir: string, written: ReadonlySet<string>): string[] =>
  readdirSync(dir)
    .filter((name) => /^\d{2}-[a-z]+-.*\.yaml$/.test(name) && !written.has(name))
    .filter((name) => readFileSync(join(dir, name), "utf8").startsWith(`# ${KUBE_HEADER}`));

/** Write one file per object into `dir` (created if needed), removing an earlier run's others; the files written and removed. */
export const writeKubeFiles = async (dir: string, objects: readonly KubeObject[], notes: readonly string[]): Promise<{ written: string[]; removed: string[] }> => {
  mkdirSync(dir, { recursive: true });
  const names = objects.map((object, index) => kubeFileName(object, index));
  const removed = staleFiles(dir, new Set(names)).map((name) => join(dir, name));
  for (const file of removed) unlinkSync(file);
  const written: string[] = [];
  for (const [index, object] of objects.entries()) {
    const file = join(dir, names[index]!);
    writeFileSync(file, `${header(notes)}${await objectYaml(object)}`);
    written.push(file);
  }
  return { written, removed };
};

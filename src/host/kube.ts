// `boxinit host kube BOOK [--out DIR] [--image REF] [--config FILE]`: the
// book's Kubernetes manifests, checked, printed as one YAML stream or written
// one file per object. Gathering (kube-inputs.ts) asks the engine; the
// generator (kube-manifests.ts) is pure.
import { writeLine } from "../log/logger.ts";
import type { Book } from "./book-types.ts";
import type { Engine } from "./engine.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import { gatherKubeInputs, type KubeOptions } from "./kube-inputs.ts";
import { kubeManifests } from "./kube-manifests.ts";
import { KUBE_HEADER, kubeStream, writeKubeFiles } from "./kube-yaml.ts";
import type { HostOutput } from "./output.ts";

/** Problems, as the book's are reported: a count, then one indented line each; exit 2. */
const reportProblems = (book: Book, errors: readonly string[]): number => {
  writeLine(2, `boxinit host kube: ${book.file}: ${errors.length} problem${errors.length === 1 ? "" : "s"}; no manifests were made\n`);
  for (const error of errors) writeLine(2, `  ${error}\n`);
  return HOST_EXIT.usage;
};

/** The verb; `out` says which files were written (stdout holds the manifests otherwise). */
export const kubeBook = async (book: Book, options: KubeOptions & { outDir?: string }, connect: () => Promise<Engine>, out: HostOutput): Promise<number> => {
  const gathered = await gatherKubeInputs(book, options, connect);
  if (!gathered.ok) return reportProblems(book, gathered.errors);
  const result = kubeManifests(gathered.inputs);
  if (!result.ok) return reportProblems(book, result.errors);
  for (const warning of [...gathered.warnings, ...result.warnings]) writeLine(2, `boxinit host kube: warning: ${warning}\n`);
  const notes = [`${KUBE_HEADER} ${book.file}`, ...gathered.notes, ...result.notes];
  if (options.outDir === undefined) {
    writeLine(1, await kubeStream(result.objects, notes));
    return HOST_EXIT.ok;
  }
  let files: Awaited<ReturnType<typeof writeKubeFiles>>;
  try {
    files = await writeKubeFiles(options.outDir, result.objects, notes);
  } catch (error) {
    throw new HostError(HOST_EXIT.failed, `--out ${options.outDir}: cannot write the manifests: ${(error as Error).message}`, undefined, error);
  }
  for (const file of files.removed) out.say(`removed ${file} (an earlier run's object the book no longer has)`);
  for (const file of files.written) out.say(`wrote ${file}`);
  return HOST_EXIT.ok;
};

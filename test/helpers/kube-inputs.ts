// host kube's generator inputs for unit tests, without an engine: a book
// file, a box config loaded with the project's loader against fixture
// passwd/group tables (as host kube loads the image's), a pinned digest, and
// the image's user as the engine would have told it.
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { loadBook, readBook } from "../../src/host/book.ts";
import type { Book } from "../../src/host/book-types.ts";
import { kubeManifests } from "../../src/host/kube-manifests.ts";
import type { ImageUser, KubeInputs, KubeObject } from "../../src/host/kube-types.ts";
import { parseYamlText } from "../../src/config/yaml-text.ts";

export const ROOT = join(import.meta.dirname, "../..");
export const FIXTURES = join(ROOT, "test/fixtures");
export const CONFLUENCE_BOOK = join(ROOT, "images/confluence/confluence.book.yaml");
export const CONFLUENCE_CONFIG = join(ROOT, "images/confluence/boxinit.yaml");
export const PROBE_CONFIG = join(FIXTURES, "kube/probe.boxinit.yaml");
export const DIGEST_REF = `boxinit/confluence@sha256:${"0123456789abcdef".repeat(4)}`;

/** A book file, or throw its problems. */
export const bookOf = async (path: string): Promise<Book> => {
  const result = await loadBook(path);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result.book;
};

/** A book from YAML text (file name t.book.yaml), or throw its problems. */
export const bookOfText = async (text: string): Promise<Book> => {
  const parsed = await parseYamlText(text, "t.book.yaml");
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  const result = readBook(parsed.value, "t.book.yaml");
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result.book;
};

/** A box config (undefined: none, the defaults) as host kube loads it, users from the fixture tables. */
export const configOf = async (path: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<Config> => {
  const result = await loadConfig({
    ...(path === undefined ? { defaultPath: join(FIXTURES, "kube/no-such-config.yaml") } : { path }),
    env, passwdFile: join(FIXTURES, "kube/passwd"), groupFile: join(FIXTURES, "kube/group"), isRoot: true,
  });
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result.config;
};

/** The generator's inputs for a book file and a config file. */
export const inputsOf = async (book: string | Book, config: string | undefined, imageUser: ImageUser = { kind: "root" }): Promise<KubeInputs> => {
  const theBook = typeof book === "string" ? await bookOf(book) : book;
  return { book: theBook, config: await configOf(config, theBook.env), image: { ref: DIGEST_REF, pullPolicy: "IfNotPresent" }, imageUser };
};

/** The objects, or throw the generator's problems. */
export const manifestsOf = async (book: string | Book, config: string | undefined, imageUser?: ImageUser): Promise<{ objects: KubeObject[]; warnings: string[]; notes: string[] }> => {
  const result = kubeManifests(await inputsOf(book, config, imageUser));
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result;
};

/** The one object of a kind. */
export const objectOf = (objects: readonly KubeObject[], kind: string): any => {
  const found = objects.filter((object) => object.kind === kind);
  if (found.length !== 1) throw new Error(`${found.length} objects of kind ${kind}: ${objects.map((object) => object.kind).join(", ")}`);
  return found[0];
};

/** The pod spec of the workload (Deployment, StatefulSet or CronJob). */
export const podOf = (objects: readonly KubeObject[]): any => {
  const workload: any = objects.find((object) => ["Deployment", "StatefulSet", "CronJob"].includes(object.kind));
  return workload.kind === "CronJob" ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
};

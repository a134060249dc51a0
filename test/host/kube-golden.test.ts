// host kube's output for the example books, compared with golden files in
// test/fixtures/kube/ (UPDATE_GOLDEN=1 rewrites them), every object validated
// against the API's schema, and the YAML read back as kubectl reads it.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { parseAllDocuments } from "yaml";
import { kubeManifests } from "../../src/host/kube-manifests.ts";
import { kubeStream } from "../../src/host/kube-yaml.ts";
import { validateObject } from "../helpers/kube-models.ts";
import { CONFLUENCE_BOOK, CONFLUENCE_CONFIG, DIGEST_REF, FIXTURES, inputsOf, manifestsOf } from "../helpers/kube-inputs.ts";

const GOLDEN = join(import.meta.dirname, "../fixtures/kube");

const EXAMPLES = [
  { golden: "confluence.yaml", book: CONFLUENCE_BOOK, config: CONFLUENCE_CONFIG, user: { kind: "root" } },
  { golden: "confluence-reindex.yaml", book: join(FIXTURES, "books/batch.book.yaml"), config: CONFLUENCE_CONFIG, user: { kind: "root" } },
  { golden: "wiki.yaml", book: join(FIXTURES, "books/full.book.yaml"), config: join(GOLDEN, "probe.boxinit.yaml"), user: { kind: "non-root", uid: 1000, gid: 1000 } },
  { golden: "minimal.yaml", book: join(FIXTURES, "books/minimal.book.yaml"), config: undefined, user: { kind: "unknown", why: "not asked" } },
] as const;

for (const example of EXAMPLES) {
  t.test(`${example.golden}: the manifests of ${example.book.replace(/.*\/(images|test)\//, "$1/")}`, async (t) => {
    const inputs = await inputsOf(example.book, example.config, { ...example.user });
    const result = kubeManifests(inputs);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const text = await kubeStream(result.objects, result.notes);
    const file = join(GOLDEN, example.golden);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, text);
    t.equal(text, readFileSync(file, "utf8"), `the same as ${file} (UPDATE_GOLDEN=1 rewrites it; read the diff first)`);
    for (const object of result.objects) t.doesNotThrow(() => validateObject(object), `${object.kind} ${object.metadata.name} validates`);
    // kubectl reads YAML 1.1 style: a string must stay a string ("no", "1.10", "false").
    const readBack = parseAllDocuments(text, { version: "1.1" }).map((document) => document.toJS());
    t.strictSame(readBack, JSON.parse(JSON.stringify(result.objects)), "read back as YAML 1.1, the objects are the same");
  });
}

t.test("the goldens differ where the books do: one kind of workload each", async (t) => {
  const kinds = await Promise.all(EXAMPLES.map(async (example) => {
    const result = await manifestsOf(example.book, example.config, { ...example.user });
    return result.objects.map((object) => object.kind).join(" ");
  }));
  t.strictSame(kinds, [
    "ConfigMap Service StatefulSet",
    "ConfigMap CronJob",
    "ConfigMap Service StatefulSet",
    "ConfigMap PersistentVolumeClaim Deployment",
  ]);
  t.ok(DIGEST_REF.includes("@sha256:"));
});

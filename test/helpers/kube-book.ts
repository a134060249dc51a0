// A book for one kube test, from a template in test/fixtures/kube-e2e/
// (@NAME@ and @HOME@ filled in): its own image repository, tagged `run` from
// an existing image as `host promote` would leave it, and its manifests as
// `boxinit host kube BOOK --out DIR` writes them. Tags and directories are
// removed in teardown.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./boxinit.ts";
import { docker, dockerOk, makeHostDir } from "./docker.ts";
import { boxinitHost } from "./host.ts";
import { readManifests, type Manifest } from "./kube-manifests.ts";

type Tap = { teardown(fn: () => void | Promise<void>): void };

export interface KubeBook {
  /** The book's name, also its Kubernetes name (letters, digits, -). */
  name: string;
  /** The book's image repository, boxinit-e2e/NAME. */
  repo: string;
  path: string;
  /** The host side of the state directory (a hostPath volume with kube.volumes: host). */
  home: string;
  /** `boxinit host kube BOOK --out DIR`, read back; throws with its output when it fails. */
  manifests(): Promise<Manifest[]>;
}

let counter = 0;

/** The template test/fixtures/kube-e2e/TEMPLATE filled in, its image tagged from sourceImage. */
export const makeKubeBook = (t: Tap, template: string, sourceImage: string): Promise<KubeBook> =>
  makeKubeBookFrom(t, readFileSync(join(ROOT, "test/fixtures/kube-e2e", template), "utf8"), sourceImage);

/** A book from text (@NAME@ and @HOME@ filled in), its image boxinit-e2e/NAME:run tagged from sourceImage. */
export const makeKubeBookFrom = async (t: Tap, template: string, sourceImage: string): Promise<KubeBook> => {
  // Short: a Kubernetes name, and podman's container names add -pod-0-CONTAINER.
  const name = `bxk-${process.pid.toString(36)}-${Date.now().toString(36)}${counter++}`;
  const dir = makeHostDir(t, "kube-book");
  chmodSync(dir, 0o755);
  const home = join(dir, "home");
  // 0755: the image's app user must reach /docker/server.xml through it.
  mkdirSync(home, { mode: 0o755 });
  const text = template.replaceAll("@NAME@", name).replaceAll("@HOME@", home);
  const path = join(dir, `${name}.book.yaml`);
  writeFileSync(path, text);
  const repo = `boxinit-e2e/${name}`;
  await dockerOk(["tag", sourceImage, `${repo}:run`]);
  t.teardown(async () => {
    await docker(["image", "rm", `${repo}:run`]);
  });
  return {
    name, repo, path, home,
    async manifests() {
      const out = join(dir, "manifests");
      const result = await boxinitHost(["kube", path, "--out", out]);
      if (result.code !== 0) throw new Error(`boxinit host kube ${path} --out ${out}: exit ${result.code}\n${result.stdout}${result.stderr}`);
      return readManifests(out);
    },
  };
};

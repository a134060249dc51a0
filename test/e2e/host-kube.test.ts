// `boxinit host kube` on the real engine: the promoted image pinned (a local
// image: its tag, never pulled, its id on the pod template), the box's config
// read out of the image through a container that is never started and is
// removed, every object valid; no image: exit 12; --image with --config asks
// no engine; a refused book: exit 2. Playing the manifests: kube-box.test.ts.
import t from "tap";
import { parseAllDocuments } from "yaml";
import { CONFLUENCE_IMAGE, docker, requireDocker } from "../helpers/docker.ts";
import { boxinitHost, makeBook } from "../helpers/host.ts";
import { validateObject } from "../helpers/kube-models.ts";
import { CONFLUENCE_CONFIG } from "../helpers/kube-inputs.ts";

const objectsOf = (text: string): any[] => parseAllDocuments(text).map((document) => document.toJS()).filter((value) => value !== null);

t.test("host kube", async (t) => {
  if (!(await requireDocker(t, [CONFLUENCE_IMAGE]))) return;

  await t.test("the Confluence stand-in: its own config from the image, pinned to its tag and id", async (t) => {
    const book = makeBook(t, "entrypoint: [/sbin/boxinit]\ncommand: []\nport:\n  - {src: 8090, dst: 8090}");
    await book.tag(CONFLUENCE_IMAGE, "run");
    const id = await book.imageId("run");
    const before = (await docker(["ps", "-aq", "--filter", "label=boxinit.kube-read=1"])).stdout;
    const result = await boxinitHost(["kube", book.path]);
    t.equal(result.code, 0, result.stderr);
    t.match(result.stdout, new RegExp(`^# boxinit host kube .*\\n# image: ${book.repo}:run \\(${id}\\) has no registry digest`));
    t.match(result.stdout, new RegExp(`\\n# box config: ${book.repo}:run:/etc/boxinit/boxinit.yaml\\n`));
    t.match(result.stdout, /\n# securityContext: baseline, not restricted: the image runs as root\n/);
    const objects = objectsOf(result.stdout);
    for (const object of objects) t.doesNotThrow(() => validateObject(object), `${object.kind} validates`);
    t.strictSame(objects.map((object) => object.kind), ["ConfigMap", "PersistentVolumeClaim", "Service", "Deployment"]);
    const template = objects.at(-1).spec.template;
    t.strictSame(template.metadata.annotations, { "boxinit/image-id": id });
    const container = template.spec.containers[0];
    t.equal(container.image, `${book.repo}:run`);
    t.equal(container.imagePullPolicy, "Never", "a never-pushed image: no registry to pull it from");
    // The image's config (images/confluence/boxinit.yaml): a 60 s pidfile wait and a 10 m warm-up.
    t.ok(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold >= 660, "the startup budget from the image's own config");
    t.strictSame(container.livenessProbe.exec.command, ["/sbin/boxinit", "health", "--live"]);
    t.equal((await docker(["ps", "-aq", "--filter", "label=boxinit.kube-read=1"])).stdout, before, "the reading container was removed");
  });

  await t.test("no IMAGE:run: exit 12, with the next step", async (t) => {
    const book = makeBook(t);
    const result = await boxinitHost(["kube", book.path]);
    t.equal(result.code, 12);
    t.match(result.stderr, new RegExp(`^boxinit host: error: image ${book.repo}:run not found; promote one .*, or name it with --image REF\\n$`));
  });

  await t.test("--image and --config: no engine is asked; without --config the engine is needed", async (t) => {
    const book = makeBook(t);
    const env = { ...process.env, DOCKER_HOST: "unix:///nonexistent/docker.sock" };
    const offline = await boxinitHost(["kube", book.path, "--image", `${book.repo}@sha256:${"0".repeat(64)}`, "--config", CONFLUENCE_CONFIG], { env });
    t.equal(offline.code, 0, offline.stderr);
    t.match(offline.stdout, /\n# securityContext: baseline, not restricted: the image's user is unknown/);
    const noEngine = await boxinitHost(["kube", book.path, "--image", `${book.repo}:run`], { env });
    t.equal(noEngine.code, 10, noEngine.stderr);
  });

  await t.test("a stop_timeout not above the box's grace: exit 2, nothing printed", async (t) => {
    const book = makeBook(t, "stop_timeout: 5s");
    await book.tag(CONFLUENCE_IMAGE, "run");
    const result = await boxinitHost(["kube", book.path]);
    t.equal(result.code, 2);
    t.equal(result.stdout, "");
    t.match(result.stderr, /^boxinit host kube: .*: 1 problem; no manifests were made\n {2}stop_timeout: expected more than the box's grace \(9s\), got 5s/);
  });
});

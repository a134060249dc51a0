// host kube's generator, decision by decision (no engine, no processes):
// the workload's kind, the control ConfigMap as a directory, probes, the
// stop budget and its refusals, the securityContext, volumes, batch books.
import t from "tap";
import { kubeManifests } from "../../src/host/kube-manifests.ts";
import { validateObject } from "../helpers/kube-models.ts";
import { CONFLUENCE_BOOK, CONFLUENCE_CONFIG, PROBE_CONFIG, bookOf, bookOfText, inputsOf, manifestsOf, objectOf, podOf } from "../helpers/kube-inputs.ts";

/** A book of a few lines around a name and (unless the lines have maps) a mapped state directory. */
const book = async (lines = "") => await bookOfText(`name: app\n${lines.includes("maps:") ? "" : "maps:\n  - {src: /srv/app, dst: /docker}\n"}${lines}`);

const errorsOf = async (...args: Parameters<typeof inputsOf>): Promise<string[]> => {
  const result = kubeManifests(await inputsOf(...args));
  return result.ok ? [] : result.errors;
};

const validatesAll = (t: { doesNotThrow(fn: () => void, message: string): unknown }, objects: readonly { kind: string; metadata: { name: string } }[]): void => {
  for (const object of objects) t.doesNotThrow(() => validateObject(object), `${object.kind} ${object.metadata.name} validates`);
};

t.test("the Confluence book: a StatefulSet whose data claims stay with the replica", async (t) => {
  const { objects } = await manifestsOf(CONFLUENCE_BOOK, CONFLUENCE_CONFIG);
  validatesAll(t, objects);
  const set = objectOf(objects, "StatefulSet");
  t.equal(set.spec.replicas, 1);
  t.strictSame(set.spec.volumeClaimTemplates.map((claim: any) => [claim.metadata.name, claim.spec.resources.requests.storage]), [["state", "1Gi"], ["confluence", "10Gi"]]);
  t.notOk(objects.some((object) => object.kind === "PersistentVolumeClaim"), "no standalone claims: the templates make them per replica");
  const container = podOf(objects).containers[0];
  t.strictSame(container.command, ["/sbin/boxinit"]);
  t.notOk("args" in container, "command: [] is no arguments");
  t.strictSame(container.volumeMounts.map((mount: any) => mount.mountPath), ["/etc/boxinit-control", "/docker", "/var/atlassian/application-data/confluence"]);
});

t.test("the control ConfigMap: backoff \"false\", mounted as a directory (never subPath), the box told where and to idle", async (t) => {
  const { objects } = await manifestsOf(CONFLUENCE_BOOK, CONFLUENCE_CONFIG);
  t.strictSame(objectOf(objects, "ConfigMap").data, { backoff: "false" });
  t.equal(objectOf(objects, "ConfigMap").metadata.name, "confluence-control");
  const pod = podOf(objects);
  t.strictSame(pod.volumes[0], { name: "control", configMap: { name: "confluence-control" } });
  const container = pod.containers[0];
  t.strictSame(container.volumeMounts[0], { name: "control", mountPath: "/etc/boxinit-control", readOnly: true });
  t.notOk(JSON.stringify(objects).includes("subPath"), "no subPath anywhere: a subPath mount never sees an update");
  t.strictSame(container.env.slice(-2), [
    { name: "BOXINIT_BACKOFF_FILE", value: "/etc/boxinit-control/backoff" },
    { name: "BOXINIT_BACKOFF_ON_ENGAGE", value: "idle" },
  ]);
});

t.test("exec probes without probe.port: boxinit health, the startup probe covering the boot's bounds", async (t) => {
  const { objects } = await manifestsOf(CONFLUENCE_BOOK, CONFLUENCE_CONFIG);
  const container = podOf(objects).containers[0];
  t.strictSame(container.readinessProbe.exec.command, ["/sbin/boxinit", "health", "--ready"]);
  t.strictSame(container.livenessProbe.exec.command, ["/sbin/boxinit", "health", "--live"]);
  t.strictSame(container.startupProbe.exec.command, ["/sbin/boxinit", "health", "--live"], "startup asks live: a box held by backoff is never ready");
  for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
    t.ok(probe.timeoutSeconds >= 5, "an exec of boxinit health takes up to 1.3 s under a 50m CPU limit: 5 s holds it");
  }
  // Confluence: a 60 s pidfile wait and a 10 m warm-up.
  const startupS = container.startupProbe.periodSeconds * container.startupProbe.failureThreshold;
  t.ok(startupS >= 60 + 600, `the startup probe allows ${startupS} s, at least the pidfile wait and the warm-up`);
});

t.test("httpGet probes on probe.port: /livez and /readyz of PID 1", async (t) => {
  const { objects } = await manifestsOf(await book(), PROBE_CONFIG);
  const container = podOf(objects).containers[0];
  t.strictSame(container.readinessProbe.httpGet, { path: "/readyz", port: 8099 });
  t.strictSame(container.livenessProbe.httpGet, { path: "/livez", port: 8099 });
  t.strictSame(container.startupProbe.httpGet, { path: "/livez", port: 8099 });
  t.ok(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold >= 120, "the 2 m warm-up");
  t.ok(!JSON.stringify(container).includes("health"), "no exec at all");
});

t.test("a probe port below 1024 with a non-root image is said: PID 1 could not open it", async (t) => {
  const inputs = await inputsOf(await book(), PROBE_CONFIG, { kind: "non-root", uid: 1000, gid: 1000 });
  const low = kubeManifests({ ...inputs, config: { ...inputs.config, probePort: 80 } });
  t.strictSame(low.ok && low.warnings, ["probe.port 80: below 1024, which the image's non-root user cannot open (the box would fail its boot, exit 69); choose one from 1024 up"]);
  const asRoot = kubeManifests({ ...inputs, config: { ...inputs.config, probePort: 80 }, imageUser: { kind: "root" } });
  t.strictSame(asRoot.ok && asRoot.warnings, []);
});

t.test("the probe command: the book's boxinit, else boxinit on PATH", async (t) => {
  const { objects } = await manifestsOf(await book("entrypoint: [/usr/local/bin/boxinit, -v]"), undefined);
  t.strictSame(podOf(objects).containers[0].livenessProbe.exec.command, ["/usr/local/bin/boxinit", "health", "--live"]);
  const plain = await manifestsOf(await book(), undefined);
  t.strictSame(podOf(plain.objects).containers[0].livenessProbe.exec.command, ["boxinit", "health", "--live"]);
});

t.test("terminationGracePeriodSeconds: grace plus 5 s, or the book's stop_timeout when longer", async (t) => {
  const podGrace = async (lines: string, config?: string, env = "") => podOf((await manifestsOf(await book(`${lines}\n${env}`), config)).objects).terminationGracePeriodSeconds;
  t.equal(await podGrace(""), 14, "the default 9 s grace");
  t.equal(await podGrace("", PROBE_CONFIG), 35, "grace: 30s");
  t.equal(await podGrace("stop_timeout: 70s", PROBE_CONFIG), 70, "stop_timeout 70 s over a 30 s grace");
  t.equal(await podGrace("env: {BOXINIT_GRACE: 60s}"), 65, "the book's env sets the grace, as in the container");
});

t.test("a stop_timeout not above the grace is refused, as it would kill the box before its own deadline", async (t) => {
  const message = (got: number, grace: number) =>
    `stop_timeout: expected more than the box's grace (${grace}s), got ${got}s: the engine would kill the box before its own deadline; raise stop_timeout or lower grace`;
  t.strictSame(await errorsOf(await book("stop_timeout: 5s"), undefined), [message(5, 9)]);
  t.strictSame(await errorsOf(await book("stop_timeout: 9s"), undefined), [message(9, 9)], "equal is refused: the engine and boxinit would race");
  t.strictSame(await errorsOf(await book("stop_timeout: 30s"), PROBE_CONFIG), [message(30, 30)]);
  t.strictSame(await errorsOf(await book("stop_timeout: 10s"), undefined), [], "10 s over 9 s is Docker's own default pair");
});

t.test("Deployment (Recreate) with standalone claims when only the state directory is written", async (t) => {
  const { objects, warnings } = await manifestsOf(await book("maps:\n  - {src: /srv/app, dst: /docker}\n  - {src: /srv/conf, dst: /etc/app, read_only: true}"), PROBE_CONFIG);
  validatesAll(t, objects);
  t.strictSame(warnings, ["maps[1]: /etc/app is a read-only claim, which starts empty: fill it, or use kube.volumes host (or a ConfigMap of your own)"]);
  t.strictSame(objects.map((object) => `${object.kind}/${object.metadata.name}`), [
    "ConfigMap/app-control", "PersistentVolumeClaim/app-state", "PersistentVolumeClaim/app-app", "Deployment/app",
  ]);
  const deployment = objectOf(objects, "Deployment");
  t.strictSame(deployment.spec.strategy, { type: "Recreate" }, "two boxes must never share a state directory");
  t.strictSame(podOf(objects).volumes.slice(1), [
    { name: "state", persistentVolumeClaim: { claimName: "app-state" } },
    { name: "app", persistentVolumeClaim: { claimName: "app-app" } },
  ]);
  t.strictSame(podOf(objects).containers[0].volumeMounts[2], { name: "app", mountPath: "/etc/app", readOnly: true });
});

t.test("kube.volumes host: hostPath of the book's own directories, a Deployment even with data", async (t) => {
  const lines = "maps:\n  - {src: /srv/app, dst: /docker}\n  - {src: /srv/data, dst: /var/lib/app}\n  - {src: /srv/conf, dst: /etc/app, read_only: true}\nkube: {volumes: host}";
  const { objects } = await manifestsOf(await book(lines), undefined);
  validatesAll(t, objects);
  t.strictSame(objects.map((object) => object.kind), ["ConfigMap", "Deployment"]);
  t.strictSame(podOf(objects).volumes.slice(1), [
    { name: "state", hostPath: { path: "/srv/app", type: "DirectoryOrCreate" } },
    { name: "app", hostPath: { path: "/srv/data", type: "DirectoryOrCreate" } },
    { name: "app-2", hostPath: { path: "/srv/conf", type: "Directory" } },
  ], "a read-only map must exist already");
});

t.test("home without a map to the state directory is mounted at the box's state_dir", async (t) => {
  const { objects } = await manifestsOf(await bookOfText("name: app\nhome: /srv/app\nkube: {volumes: host}"), PROBE_CONFIG);
  t.strictSame(podOf(objects).containers[0].volumeMounts[1], { name: "state", mountPath: "/docker" });
  t.strictSame(podOf(objects).volumes[1], { name: "state", hostPath: { path: "/srv/app", type: "DirectoryOrCreate" } });
});

t.test("kube.storage_class and kube.size reach the claims; kube.name names the objects", async (t) => {
  const { objects } = await manifestsOf(await book("maps:\n  - {src: /srv/app, dst: /docker}\n  - {src: /srv/d, dst: /data}\nkube: {name: wiki, storage_class: fast.ssd, size: 50Gi}"), undefined);
  validatesAll(t, objects);
  const set = objectOf(objects, "StatefulSet");
  t.equal(set.metadata.name, "wiki");
  t.strictSame(set.spec.volumeClaimTemplates.map((claim: any) => [claim.spec.storageClassName, claim.spec.resources.requests.storage]), [["fast.ssd", "1Gi"], ["fast.ssd", "50Gi"]]);
  t.equal(objectOf(objects, "ConfigMap").metadata.name, "wiki-control");
});

t.test("securityContext: restricted only for a known non-root user with no user switch", async (t) => {
  const restricted = await manifestsOf(await book(), PROBE_CONFIG, { kind: "non-root", uid: 1000, gid: 1000 });
  t.strictSame(podOf(restricted.objects).securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
  t.strictSame(podOf(restricted.objects).containers[0].securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  t.match(restricted.notes, [/^securityContext: restricted/]);
  const baseline = { seccompProfile: { type: "RuntimeDefault" } };
  const switching = await manifestsOf(CONFLUENCE_BOOK, CONFLUENCE_CONFIG, { kind: "non-root", uid: 1000, gid: 1000 });
  t.strictSame(podOf(switching.objects).securityContext, baseline);
  t.match(switching.notes, [/switches users, which needs root/]);
  const root = await manifestsOf(await book(), PROBE_CONFIG, { kind: "root" });
  t.strictSame(podOf(root.objects).containers[0].securityContext, { allowPrivilegeEscalation: false });
  t.match(root.notes, [/the image runs as root/]);
});

t.test("a Service for the book's ports, container ports once per port and protocol", async (t) => {
  const { objects } = await manifestsOf(await book("port:\n  - {src: 80, dst: 8080}\n  - {src: 8080, dst: 8080}\n  - {src: 53, dst: 53, protocol: udp}"), undefined);
  validatesAll(t, objects);
  t.strictSame(objectOf(objects, "Service").spec.ports, [
    { name: "tcp-80", port: 80, targetPort: 8080, protocol: "TCP" },
    { name: "tcp-8080", port: 8080, targetPort: 8080, protocol: "TCP" },
    { name: "udp-53", port: 53, targetPort: 53, protocol: "UDP" },
  ]);
  t.strictSame(podOf(objects).containers[0].ports, [{ containerPort: 8080, protocol: "TCP" }, { containerPort: 53, protocol: "UDP" }]);
  const none = await manifestsOf(await book(), undefined);
  t.notOk(none.objects.some((object) => object.kind === "Service"), "no port, no Service");
});

t.test("network host becomes hostNetwork; other networks and hostname are said, not translated", async (t) => {
  const host = await manifestsOf(await book("network: host\nkube: {volumes: host}"), undefined);
  t.equal(podOf(host.objects).hostNetwork, true);
  t.match(host.notes, [/^securityContext: baseline/, "pod security: hostPath volumes and hostNetwork: only a privileged namespace admits them"]);
  t.equal(podOf(host.objects).dnsPolicy, "ClusterFirstWithHostNet");
  const other = await manifestsOf(await book("network: wiki-net\nhostname: wiki"), PROBE_CONFIG);
  t.strictSame(other.warnings, ['network: "wiki-net" has no Kubernetes equivalent: ignored (the Pod\'s network)', "hostname: ignored (a Pod's hostname is its name)"]);
  t.notOk("hostNetwork" in podOf(other.objects));
});

t.test("the book's own BOXINIT_BACKOFF_* are replaced by the control directory's, and said so", async (t) => {
  const { objects, warnings } = await manifestsOf(await book("env: {BOXINIT_BACKOFF_FILE: /docker/backoff, BOXINIT_BACKOFF_ON_ENGAGE: idle, A: b}"), PROBE_CONFIG);
  t.strictSame(podOf(objects).containers[0].env.map((variable: any) => variable.name), ["A", "BOXINIT_BACKOFF_FILE", "BOXINIT_BACKOFF_ON_ENGAGE"]);
  t.strictSame(warnings, ['env.BOXINIT_BACKOFF_FILE: replaced by "/etc/boxinit-control/backoff" in the manifests (the control ConfigMap\'s directory)']);
});

t.test("a box without a config (tini-style) is not told to idle, which it would refuse at every start; said", async (t) => {
  const { objects, warnings } = await manifestsOf(await book(), undefined);
  t.strictSame(podOf(objects).containers[0].env, [{ name: "BOXINIT_BACKOFF_FILE", value: "/etc/boxinit-control/backoff" }]);
  t.strictSame(warnings, ["the box has no config: a tini-style run cannot idle on backoff, it exits and the Pod starts it again; give the image a config (even one without services) to idle"]);
});

t.test("--config in the book's argv or a variable that selects Mini-VM mode: the box idles although no default config was found", async (t) => {
  for (const lines of ["entrypoint: [/sbin/boxinit, --config, /srv/box.yaml, --]\ncommand: [app]", "entrypoint: [/sbin/boxinit, --config=/srv/box.yaml]", "env: {BOXINIT_INIT_DIR: /srv/init.d}"]) {
    const { objects, warnings } = await manifestsOf(await book(lines), undefined);
    t.ok(podOf(objects).containers[0].env.some((variable: any) => variable.name === "BOXINIT_BACKOFF_ON_ENGAGE" && variable.value === "idle"), `idle: ${lines}`);
    t.notOk(warnings.some((warning) => warning.startsWith("the box has no config")), `no tini-style warning: ${lines}`);
  }
});

t.test("a tini-style box whose env asks for probes or idle is refused: it would refuse them at every start", async (t) => {
  t.strictSame(await errorsOf(await book("env: {BOXINIT_PROBE_PORT: 8099, BOXINIT_BACKOFF_ON_ENGAGE: idle}"), undefined), [
    "env.BOXINIT_PROBE_PORT: the box has no config (a tini-style run), which refuses it at every start; give the image a config, or leave the probes to exec",
    "env.BOXINIT_BACKOFF_ON_ENGAGE: idle needs a config (Mini-VM mode); a tini-style run refuses it at every start",
  ]);
});

t.test("a map onto the control ConfigMap's directory is refused", async (t) => {
  t.strictSame(await errorsOf(await book("maps:\n  - {src: /srv/app, dst: /docker}\n  - {src: /srv/c, dst: /etc/boxinit-control/}"), undefined), [
    "maps[1].dst: /etc/boxinit-control is where the control ConfigMap is mounted in a Pod; map another directory",
  ]);
});

t.test("a name that cannot name Kubernetes objects is refused unless kube.name gives one", async (t) => {
  t.strictSame(await errorsOf(await bookOfText("name: 9lives\nhome: /srv/x"), undefined), [
    'name: "9lives" cannot name Kubernetes objects (a Service\'s name starts with a letter and holds no _ or .: they become -); set kube.name',
  ]);
  const { objects } = await manifestsOf(await bookOfText("name: 9lives\nhome: /srv/x\nkube: {name: lives}"), undefined);
  t.equal(objects.at(-1)!.metadata.name, "lives");
  const dotted = await manifestsOf(await bookOfText("name: wiki.app_2\nhome: /srv/x"), undefined);
  t.equal(dotted.objects.at(-1)!.metadata.name, "wiki-app-2");
});

t.test("a pod template carries the image id when the engine gave one", async (t) => {
  const inputs = await inputsOf(await book(), undefined);
  const result = kubeManifests({ ...inputs, image: { ref: "app:run", pullPolicy: "Never", id: "sha256:abc" } });
  if (!result.ok) throw new Error(result.errors.join("\n"));
  const deployment = objectOf(result.objects, "Deployment");
  t.strictSame(deployment.spec.template.metadata.annotations, { "boxinit/image-id": "sha256:abc" });
  t.equal(podOf(result.objects).containers[0].imagePullPolicy, "Never");
  validatesAll(t, result.objects);
});

t.test("the Confluence book loads as host kube reads it", async (t) => {
  t.equal((await bookOf(CONFLUENCE_BOOK)).kube, undefined, "no kube: key: the defaults");
});

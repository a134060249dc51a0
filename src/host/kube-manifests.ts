// `boxinit host kube`'s generator (pure): a book, the box's config and the
// pinned image in, the objects out, in the order they are applied: the
// control ConfigMap, the claims, the Service, then the workload (a Deployment,
// a StatefulSet when data must stay with the replica, or a batch book's CronJob).
import type { Deployment, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { ConfigMap, Container, PodTemplateSpec, Service } from "kubernetes-types/core/v1.js";
import { kubeNameOf } from "./book-kube.ts";
import { directoryKey } from "./book-mounts.ts";
import type { Book } from "./book-types.ts";
import { checkObjects } from "./kube-check.ts";
import { activeDeadlineSeconds, batchJobOf, cronJob } from "./kube-job.ts";
import { boxinitPath, boxProbes } from "./kube-probes.ts";
import {
  containerArgv, containerEnv, kubeName, mountsOf, podSpec, processWords, runsMiniVm, securityContexts, stopTimeoutProblem, type SecurityContexts,
} from "./kube-pod.ts";
import { CONTROL_DIR, type KubeInputs, type KubeObject, type KubeResult } from "./kube-types.ts";
import { boxVolumes, claimName, claims, needsStatefulSet, podVolumes, type BoxVolume } from "./kube-volumes.ts";

/** The image's id on the pod template: re-applied manifests roll the pods when the image behind a tag changed. */
export const IMAGE_ID_ANNOTATION = "boxinit/image-id";

/** The labels of every object; the first is the workload's selector. */
const labelsOf = (name: string): Record<string, string> => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "boxinit" });

const controlMap = (name: string, labels: Record<string, string>): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: `${name}-control`, labels },
  // A string: "false" is not engaged; `kubectl edit` it to "true" to engage backoff.
  data: { backoff: "false" },
});

const PROTOCOL = { tcp: "TCP", udp: "UDP" } as const;

/** A Service for the book's ports: `src` is the port clients use, `dst` the container's. */
const service = (book: Book, name: string, labels: Record<string, string>): Service | undefined => {
  if (book.ports.length === 0) return undefined;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels },
    spec: {
      selector: { "app.kubernetes.io/name": name },
      ports: book.ports.map((port) => ({ name: `${port.protocol}-${port.src}`, port: port.src, targetPort: port.dst, protocol: PROTOCOL[port.protocol] })),
    },
  };
};

/** The one container: the book's argv and env, the control directory and volumes mounted. */
const boxContainer = (inputs: KubeInputs, name: string, volumes: readonly BoxVolume[], isBatch: boolean, warnings: string[]): Container => {
  const { book, config, image } = inputs;
  const ports = [...new Map(book.ports.map((port) => [`${port.dst}/${port.protocol}`, port])).values()];
  return {
    name,
    image: image.ref,
    ...(image.pullPolicy !== undefined && { imagePullPolicy: image.pullPolicy }),
    ...containerArgv(book),
    env: containerEnv(book, isBatch ? "job" : runsMiniVm(book, config) ? "idle" : "no-config", warnings),
    ...(ports.length > 0 && { ports: ports.map((port) => ({ containerPort: port.dst, protocol: PROTOCOL[port.protocol] })) }),
    volumeMounts: mountsOf(volumes),
    // A job's summary line (`boxinit job` writes /dev/termination-log), else its output's tail.
    ...(isBatch ? { terminationMessagePolicy: "FallbackToLogsOnError" } : boxProbes(config, boxinitPath(processWords(book)))),
  };
};

/** Why the book cannot become manifests, all at once. */
const refusals = (inputs: KubeInputs): string[] => {
  const { book } = inputs;
  const errors: string[] = [];
  if (book.kube?.name === undefined && kubeNameOf(book.name) === undefined) {
    errors.push(`name: ${JSON.stringify(book.name)} cannot name Kubernetes objects (a Service's name starts with a letter and holds no _ or .: they become -); set kube.name`);
  }
  const stop = stopTimeoutProblem(book, inputs.config);
  if (stop !== undefined) errors.push(stop);
  // A tini-style run refuses both at every start (exit 2): the Pod would never come up.
  if (book.kube?.schedule === undefined && !runsMiniVm(book, inputs.config)) {
    if (book.env.BOXINIT_PROBE_PORT) errors.push("env.BOXINIT_PROBE_PORT: the box has no config (a tini-style run), which refuses it at every start; give the image a config, or leave the probes to exec");
    if (book.env.BOXINIT_BACKOFF_ON_ENGAGE === "idle") errors.push("env.BOXINIT_BACKOFF_ON_ENGAGE: idle needs a config (Mini-VM mode); a tini-style run refuses it at every start");
  }
  for (const [index, map] of book.maps.entries()) {
    if (directoryKey(map.dst) === CONTROL_DIR) errors.push(`maps[${index}].dst: ${CONTROL_DIR} is where the control ConfigMap is mounted in a Pod; map another directory`);
  }
  return errors;
};

/** A probe port below 1024 cannot be opened by a non-root PID 1: the box would fail its boot (exit 69). */
const probePortWarning = (inputs: KubeInputs): string[] => {
  const port = inputs.config.probePort;
  if (port === undefined || port >= 1024 || inputs.imageUser.kind !== "non-root") return [];
  return [`probe.port ${port}: below 1024, which the image's non-root user cannot open (the box would fail its boot, exit 69); choose one from 1024 up`];
};

/** Translate what Docker does and Kubernetes cannot say, or says otherwise, into warnings. */
const untranslated = (book: Book): string[] => [
  ...(book.network !== undefined && book.network !== "host" ? [`network: ${JSON.stringify(book.network)} has no Kubernetes equivalent: ignored (the Pod's network)`] : []),
  ...(book.hostname !== undefined ? [`hostname: ignored (a Pod's hostname is its name)`] : []),
  // Docker's read-only maps are usually host config files; a new claim holds nothing.
  ...((book.kube?.volumes ?? "claim") === "claim"
    ? book.maps.flatMap((map, index) => (map.isReadOnly ? [`maps[${index}]: ${map.dst} is a read-only claim, which starts empty: fill it, or use kube.volumes host (or a ConfigMap of your own)`] : []))
    : []),
];

/** What only a privileged namespace admits (Pod Security Standards: baseline refuses both). */
const privilegedNote = (book: Book): string[] => {
  const uses = [...(book.kube?.volumes === "host" ? ["hostPath volumes"] : []), ...(book.network === "host" ? ["hostNetwork"] : [])];
  return uses.length === 0 ? [] : [`pod security: ${uses.join(" and ")}: only a privileged namespace admits them`];
};

const workloadOf = (name: string, labels: Record<string, string>, template: PodTemplateSpec, claimTemplates: KubeObject[] | undefined): Deployment | StatefulSet => {
  const selector = { matchLabels: { "app.kubernetes.io/name": name } };
  if (claimTemplates === undefined) {
    // Recreate: one box per state directory; a rolling update would run two on it.
    return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels }, spec: { replicas: 1, selector, strategy: { type: "Recreate" }, template } };
  }
  return {
    apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name, labels },
    spec: {
      replicas: 1, serviceName: name, selector, template,
      volumeClaimTemplates: claimTemplates.map(({ apiVersion: _version, kind: _kind, ...claim }) => claim),
    },
  };
};

/** The manifests of a book, checked; or every reason why not. */
export const kubeManifests = (inputs: KubeInputs): KubeResult => {
  const errors = refusals(inputs);
  const { book, config } = inputs;
  const isBatch = book.kube?.schedule !== undefined;
  const job = isBatch ? batchJobOf(book, config, errors) : undefined;
  if (errors.length > 0) return { ok: false, errors };
  const warnings = [...untranslated(book), ...probePortWarning(inputs)];
  const name = kubeName(book);
  const labels = labelsOf(name);
  const volumes = boxVolumes(book, config.stateDir);
  const isStatefulSet = !isBatch && needsStatefulSet(book, volumes);
  const security: SecurityContexts = securityContexts(inputs.imageUser, config);
  const container = boxContainer(inputs, name, volumes, isBatch, warnings);
  const pod = podSpec(inputs, { container, volumes: podVolumes(book, name, volumes, isStatefulSet) }, security);
  const claimObjects = claims(book, volumes, (volume) => (isStatefulSet ? volume.name : claimName(name, volume)), labels) as KubeObject[];
  const imageId = inputs.image.id;
  const template: PodTemplateSpec = { metadata: { labels, ...(imageId !== undefined && { annotations: { [IMAGE_ID_ANNOTATION]: imageId } }) }, spec: pod };
  const workload = job === undefined
    ? workloadOf(name, labels, template, isStatefulSet ? claimObjects : undefined)
    : cronJob(book, name, labels, activeDeadlineSeconds(job, config), template);
  const objects = [
    controlMap(name, labels), ...(isStatefulSet ? [] : claimObjects), service(book, name, labels), workload,
  ].filter((object) => object !== undefined) as KubeObject[];
  const problems = checkObjects(objects);
  if (problems.length > 0) return { ok: false, errors: problems.map((problem) => `the manifests: ${problem} (a bug of boxinit host kube)`) };
  return { ok: true, objects, warnings, notes: [`securityContext: ${security.note}`, ...privilegedNote(book)] };
};

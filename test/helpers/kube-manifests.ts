// Kubernetes manifests as the kube tests use them: read from `boxinit host
// kube --out DIR`, looked up by kind and name, and adapted for podman 4.3's
// `kube play` (plain functions, no processes). Each adaptation is one small
// named change, so a test says exactly where what podman plays differs from
// what a cluster would get.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

/** One Kubernetes object, as parsed from YAML. */
export interface Manifest {
  apiVersion?: string;
  kind: string;
  metadata?: { name?: string; labels?: Record<string, string>; [key: string]: unknown };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** Every object of a multi-document YAML text (empty documents dropped). */
export const parseManifests = (text: string, where = "YAML"): Manifest[] =>
  parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${where}: ${document.errors.map((error) => error.message).join("; ")}`);
    const value = document.toJS();
    if (value === null || value === undefined) return [];
    if (typeof value !== "object" || typeof value.kind !== "string") throw new Error(`${where}: a document that is no Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    return [value as Manifest];
  });

/** Every object of every .yaml/.yml file in dir (host kube --out DIR), files in name order. */
export const readManifests = (dir: string): Manifest[] =>
  readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort().flatMap((name) => parseManifests(readFileSync(join(dir, name), "utf8"), join(dir, name)));

/** The one object of kind (and name, when given); throws naming what there is. */
export const findManifest = (manifests: readonly Manifest[], kind: string, name?: string): Manifest => {
  const found = manifests.filter((manifest) => manifest.kind === kind && (name === undefined || manifest.metadata?.name === name));
  if (found.length === 1) return found[0]!;
  const there = manifests.map((manifest) => `${manifest.kind}/${manifest.metadata?.name}`).join(", ");
  throw new Error(`${found.length} objects of kind ${kind}${name === undefined ? "" : ` named ${name}`}; there are: ${there}`);
};

/** The pod spec inside a workload (Pod, Deployment, StatefulSet, Job, CronJob), or undefined. */
export const podSpecOf = (manifest: Manifest): any => {
  switch (manifest.kind) {
    case "Pod":
      return manifest.spec;
    case "Deployment":
    case "StatefulSet":
    case "Job":
      return manifest.spec?.template?.spec;
    case "CronJob":
      return manifest.spec?.jobTemplate?.spec?.template?.spec;
    default:
      return undefined;
  }
};

const clone = <T>(value: T): T => structuredClone(value);

/** The names podman 4.3 gives the pods it plays: a Pod's own, NAME-pod-0 for a Deployment's one replica. */
export const podNamesOf = (manifests: readonly Manifest[]): string[] =>
  manifests.flatMap((manifest) => {
    if (manifest.kind === "Pod") return [manifest.metadata!.name!];
    if (manifest.kind === "Deployment") return [`${manifest.metadata!.name!}-pod-0`];
    return [];
  });

/** The named volumes podman makes for the YAML: one per ConfigMap (object or volume) and per claim. */
export const volumeNamesOf = (manifests: readonly Manifest[]): string[] => {
  const names = new Set<string>();
  for (const manifest of manifests) {
    if (manifest.kind === "ConfigMap" || manifest.kind === "PersistentVolumeClaim") names.add(manifest.metadata!.name!);
    for (const volume of podSpecOf(manifest)?.volumes ?? []) {
      if (volume.configMap?.name) names.add(volume.configMap.name);
      if (volume.persistentVolumeClaim?.claimName) names.add(volume.persistentVolumeClaim.claimName);
    }
  }
  return [...names];
};

/** What podman 4.3's `kube play` accepts; a Service (and anything else) is left out. */
const PLAYABLE = new Set(["Pod", "Deployment", "ConfigMap", "PersistentVolumeClaim"]);

/**
 * The manifests as podman plays them: only the kinds it knows, and two
 * things podman 4.3 refuses although Kubernetes takes them:
 * - containerPorts: podman turns them into port mappings, which it refuses
 *   without a bridge network ("PortMappings can only be used with Bridge or
 *   slirp4netns networking"), even for a pod with hostNetwork, and no bridge
 *   may exist here. In the host's network (a book's `network: host`) the
 *   app binds the host's own port all the same; in its own, the pod's.
 * - annotation values over 63 characters ("value length exceeds Kubernetes
 *   max 63": podman checks them as if they were label values), such as
 *   host kube's boxinit/image-id (sha256:...); they are dropped.
 */
export const forPodman = (manifests: readonly Manifest[]): Manifest[] =>
  manifests.filter((manifest) => PLAYABLE.has(manifest.kind)).map((original) => {
    const manifest = clone(original);
    for (const container of containersOf(podSpecOf(manifest))) delete container.ports;
    for (const metadata of [manifest.metadata, podTemplateOf(manifest)?.metadata]) dropLongAnnotations(metadata);
    return manifest;
  });

/** The pod template of a workload (undefined for a Pod, whose own metadata is the pod's). */
const podTemplateOf = (manifest: Manifest): any =>
  manifest.kind === "CronJob" ? manifest.spec?.jobTemplate?.spec?.template : manifest.kind === "Pod" ? undefined : manifest.spec?.template;

const PODMAN_MAX_ANNOTATION = 63;
const dropLongAnnotations = (metadata: any): void => {
  const annotations = metadata?.annotations;
  if (annotations === undefined) return;
  for (const [key, value] of Object.entries(annotations)) if (String(value).length > PODMAN_MAX_ANNOTATION) delete annotations[key];
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
};

const containersOf = (spec: any): any[] => (spec === undefined ? [] : [...(spec.initContainers ?? []), ...(spec.containers ?? [])]);

/**
 * A CronJob's pod template as a Pod named name: podman 4.3 refuses CronJob
 * and Job, and what a Job's run starts is exactly this pod.
 */
export const cronJobAsPod = (cronJob: Manifest, name: string): Manifest => {
  const template = cronJob.spec?.jobTemplate?.spec?.template;
  if (template === undefined) throw new Error(`CronJob ${cronJob.metadata?.name}: no spec.jobTemplate.spec.template`);
  return { apiVersion: "v1", kind: "Pod", metadata: { ...clone(template.metadata ?? {}), name }, spec: clone(template.spec) };
};

/**
 * The ConfigMap configMapName mounted from the host directory hostDir
 * instead (hostPath), and the ConfigMap object dropped: podman 4.3 mounts a
 * ConfigMap as plain files, without the kubelet's ..data link, so a kubelet
 * update can only be played by a test that lays the directory out itself.
 */
export const configMapAsHostPath = (manifests: readonly Manifest[], configMapName: string, hostDir: string): Manifest[] => {
  let replaced = 0;
  const adapted = manifests.filter((manifest) => !(manifest.kind === "ConfigMap" && manifest.metadata?.name === configMapName)).map((original) => {
    const manifest = clone(original);
    const spec = podSpecOf(manifest);
    spec?.volumes?.forEach((volume: any, index: number) => {
      if (volume.configMap?.name !== configMapName) return;
      spec.volumes[index] = { name: volume.name, hostPath: { path: hostDir, type: "Directory" } };
      replaced++;
    });
    return manifest;
  });
  if (replaced === 0) throw new Error(`no pod mounts the ConfigMap ${configMapName}`);
  return adapted;
};

/**
 * The pod with the host file hostFile mounted at its first container's
 * terminationMessagePath (default /dev/termination-log): podman 4.3 neither
 * creates that file nor reads it back, as the kubelet does.
 */
export const withTerminationLogFile = (pod: Manifest, hostFile: string): Manifest => {
  const adapted = clone(pod);
  const spec = podSpecOf(adapted);
  const container = spec.containers[0];
  spec.volumes = [...(spec.volumes ?? []), { name: "termination-log", hostPath: { path: hostFile, type: "File" } }];
  container.volumeMounts = [...(container.volumeMounts ?? []), { name: "termination-log", mountPath: container.terminationMessagePath ?? "/dev/termination-log" }];
  return adapted;
};

/**
 * Each StatefulSet as a Deployment with standalone claims: podman 4.3 plays
 * no StatefulSet. Its one replica's claims get the names Kubernetes gives
 * them (TEMPLATE-STATEFULSET-0), and the pod mounts them by those names.
 */
export const statefulSetAsDeployment = (manifests: readonly Manifest[]): Manifest[] =>
  manifests.flatMap((manifest) => {
    if (manifest.kind !== "StatefulSet") return [manifest];
    const name = manifest.metadata!.name!;
    const templates: any[] = manifest.spec.volumeClaimTemplates ?? [];
    const claims: Manifest[] = templates.map((template) => ({
      apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { ...clone(template.metadata), name: `${template.metadata.name}-${name}-0` }, spec: clone(template.spec),
    }));
    const template = clone(manifest.spec.template);
    template.spec.volumes = [
      ...(template.spec.volumes ?? []),
      ...templates.map((claim) => ({ name: claim.metadata.name, persistentVolumeClaim: { claimName: `${claim.metadata.name}-${name}-0` } })),
    ];
    const deployment: Manifest = {
      apiVersion: "apps/v1", kind: "Deployment", metadata: clone(manifest.metadata),
      spec: { replicas: 1, selector: clone(manifest.spec.selector), template },
    };
    return [...claims, deployment];
  });

/** The claim mounted at mountPath in the workload's first container (undefined: none, or not a claim). */
export const claimMountedAt = (workload: Manifest, mountPath: string): string | undefined => {
  const spec = podSpecOf(workload);
  const mount = spec?.containers?.[0]?.volumeMounts?.find((each: any) => each.mountPath === mountPath);
  return spec?.volumes?.find((volume: any) => volume.name === mount?.name)?.persistentVolumeClaim?.claimName;
};

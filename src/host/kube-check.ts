// The check `boxinit host kube` runs on its own output before printing it:
// what TypeScript's types (kubernetes-types) cannot see and the API server
// would refuse: names and their lengths, label values, volumes that mounts
// name, duplicate mount paths and variables, port ranges. The full check
// against the API's OpenAPI schema (kubernetes-models) runs in the tests:
// a schema library is a development tool, not part of the shipped binary.
import type { PodSpec } from "kubernetes-types/core/v1.js";
import type { KubeObject } from "./kube-types.ts";

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
// Kubernetes' env names: printable ASCII without "=" (C_IDENTIFIER is only a warning since 1.30).
const ENV_NAME = /^[!-<>-~]+$/;

/** Which names a kind takes: a Service's and a CronJob's are stricter (DNS-1035; a CronJob's Jobs add 11 characters). */
const nameProblem = (object: KubeObject): string | undefined => {
  const { kind, metadata: { name } } = object;
  if (kind === "Service" && !DNS_1035_LABEL.test(name)) return `Service ${JSON.stringify(name)}: not a DNS-1035 label`;
  if (kind === "CronJob" && (!DNS_1035_LABEL.test(name) || name.length > 52)) return `CronJob ${JSON.stringify(name)}: not a DNS label of at most 52`;
  if (!DNS_SUBDOMAIN.test(name)) return `${kind} ${JSON.stringify(name)}: not a DNS subdomain`;
  return undefined;
};

/** The pod specs inside a workload. */
const podSpecsOf = (object: KubeObject): PodSpec[] => {
  const spec = object.spec as { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } | undefined;
  return [spec?.template?.spec, spec?.jobTemplate?.spec?.template?.spec].filter((pod): pod is PodSpec => pod !== undefined);
};

const duplicates = (values: readonly string[]): string[] => values.filter((value, index) => values.indexOf(value) !== index);

/** A pod's volumes, mounts, variables and ports; `claimNames`: a StatefulSet's templates, which count as volumes. */
const podProblems = (pod: PodSpec, claimNames: readonly string[]): string[] => {
  const problems: string[] = [];
  const volumeNames = [...(pod.volumes ?? []).map((volume) => volume.name), ...claimNames];
  for (const name of volumeNames) if (!DNS_LABEL.test(name)) problems.push(`volume ${JSON.stringify(name)}: not a DNS label`);
  for (const name of duplicates(volumeNames)) problems.push(`volume ${JSON.stringify(name)}: named twice`);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    if (!DNS_LABEL.test(container.name)) problems.push(`container ${JSON.stringify(container.name)}: not a DNS label`);
    if (!/^[^\s]+$/.test(container.image ?? "")) problems.push(`container ${container.name}: image ${JSON.stringify(container.image ?? "")}: not an image reference`);
    const mounts = container.volumeMounts ?? [];
    for (const mount of mounts) {
      if (!volumeNames.includes(mount.name)) problems.push(`mount of ${JSON.stringify(mount.name)}: no such volume`);
      if (!mount.mountPath.startsWith("/")) problems.push(`mount ${JSON.stringify(mount.mountPath)}: not an absolute path`);
    }
    for (const path of duplicates(mounts.map((mount) => mount.mountPath))) problems.push(`mount path ${JSON.stringify(path)}: mounted twice`);
    const env = (container.env ?? []).map((variable) => variable.name);
    for (const name of env) if (!ENV_NAME.test(name)) problems.push(`env ${JSON.stringify(name)}: not a variable name`);
    for (const name of duplicates(env)) problems.push(`env ${JSON.stringify(name)}: set twice`);
    for (const port of container.ports ?? []) if (port.containerPort < 1 || port.containerPort > 65_535) problems.push(`containerPort ${port.containerPort}: not 1-65535`);
  }
  return problems;
};

/** Every problem of the objects, as `KIND NAME: what`; none for what host kube generates. */
export const checkObjects = (objects: readonly KubeObject[]): string[] => {
  const problems: string[] = [];
  for (const object of objects) {
    const named = nameProblem(object);
    if (named !== undefined) problems.push(named);
    for (const [key, value] of Object.entries(object.metadata.labels ?? {})) {
      if (!LABEL_VALUE.test(value)) problems.push(`${object.kind} ${object.metadata.name}: label ${key}: ${JSON.stringify(value)} is not a label value`);
    }
    const claimNames = ((object.spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] } | undefined)?.volumeClaimTemplates ?? [])
      .map((claim) => claim.metadata?.name ?? "");
    for (const pod of podSpecsOf(object)) problems.push(...podProblems(pod, claimNames).map((problem) => `${object.kind} ${object.metadata.name}: ${problem}`));
  }
  return problems;
};

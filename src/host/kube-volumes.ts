// The book's `maps` and `home` as Kubernetes volumes: one volume per map (the
// one at the box's state directory is `state`; home is mounted there when no
// map is), each a PersistentVolumeClaim or, with `kube.volumes: host`, a
// hostPath of the map's own host directory.
import type { PersistentVolumeClaim, Volume, VolumeMount } from "kubernetes-types/core/v1.js";
import { DEFAULT_CLAIM_SIZE } from "./book-kube.ts";
import { directoryKey } from "./book-mounts.ts";
import type { Book } from "./book-types.ts";

/** The state directory's claim: status, status.json, logs/ and the jobs' lock are small. */
export const STATE_CLAIM_SIZE = "1Gi";

export interface BoxVolume {
  /** A DNS label, unique in the pod. */
  name: string;
  hostPath: string;
  mountPath: string;
  isReadOnly: boolean;
  isStateDir: boolean;
}

const MAX_VOLUME_NAME = 63;

/** A map's volume name: its path's last component as a DNS label (`/var/atlassian/application-data/confluence` → `confluence`). */
const slugOf = (path: string): string => {
  const last = directoryKey(path).split("/").pop() ?? "";
  const slug = last.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40).replace(/^-+|-+$/g, "");
  return slug === "" ? "data" : slug;
};

/** Unique names: a second `data` becomes `data-2`. */
const uniqueName = (wanted: string, taken: Set<string>): string => {
  let name = wanted.slice(0, MAX_VOLUME_NAME);
  for (let index = 2; taken.has(name); index++) name = `${wanted.slice(0, MAX_VOLUME_NAME - String(index).length - 1)}-${index}`;
  taken.add(name);
  return name;
};

/** The book's volumes; the state directory's first. */
export const boxVolumes = (book: Book, stateDir: string): BoxVolume[] => {
  const taken = new Set(["control"]);
  const stateMap = book.maps.find((map) => directoryKey(map.dst) === directoryKey(stateDir));
  const state: BoxVolume = {
    name: uniqueName("state", taken), hostPath: stateMap?.src ?? book.home, mountPath: stateMap?.dst ?? stateDir,
    isReadOnly: stateMap?.isReadOnly ?? false, isStateDir: true,
  };
  const others = book.maps.filter((map) => map !== stateMap).map((map): BoxVolume => ({
    name: uniqueName(slugOf(map.dst), taken), hostPath: map.src, mountPath: map.dst, isReadOnly: map.isReadOnly, isStateDir: false,
  }));
  return [state, ...others];
};

/**
 * Data that must stay with the replica: a writable map besides the state
 * directory (Confluence's home), on claims. Such a box is a StatefulSet, its
 * claims templates bound to the replica; hostPath data is the node's.
 */
export const needsStatefulSet = (book: Book, volumes: readonly BoxVolume[]): boolean =>
  (book.kube?.volumes ?? "claim") === "claim" && volumes.some((volume) => !volume.isStateDir && !volume.isReadOnly);

export const volumeMounts = (volumes: readonly BoxVolume[]): VolumeMount[] =>
  volumes.map((volume) => ({ name: volume.name, mountPath: volume.mountPath, ...(volume.isReadOnly && { readOnly: true }) }));

/** A claim's name: the workload's name and the volume's (a StatefulSet adds the replica's ordinal itself). */
export const claimName = (kubeName: string, volume: BoxVolume): string => `${kubeName}-${volume.name}`;

/** The pod's volumes: hostPath, or the standalone claims (a StatefulSet's templates need none here). */
export const podVolumes = (book: Book, kubeName: string, volumes: readonly BoxVolume[], isStatefulSet: boolean): Volume[] => {
  if (book.kube?.volumes === "host") {
    // A read-only map must exist (an empty directory made for it would hide a wrong path).
    return volumes.map((volume) => ({ name: volume.name, hostPath: { path: volume.hostPath, type: volume.isReadOnly ? "Directory" : "DirectoryOrCreate" } }));
  }
  if (isStatefulSet) return [];
  return volumes.map((volume) => ({ name: volume.name, persistentVolumeClaim: { claimName: claimName(kubeName, volume) } }));
};

/** One claim per volume (none with hostPath): ReadWriteOnce, the book's size and storage class. */
export const claims = (book: Book, volumes: readonly BoxVolume[], name: (volume: BoxVolume) => string, labels: Record<string, string>): PersistentVolumeClaim[] => {
  if (book.kube?.volumes === "host") return [];
  return volumes.map((volume) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: name(volume), labels },
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(book.kube?.storageClass !== undefined && { storageClassName: book.kube.storageClass }),
      resources: { requests: { storage: volume.isStateDir ? STATE_CLAIM_SIZE : book.kube?.size ?? DEFAULT_CLAIM_SIZE } },
    },
  }));
};

// What `boxinit host kube` turns into manifests, gathered before any is made:
// the book, the box's own config (from the image or --config), the image
// reference to pin, and what is known of the image's user. kube-inputs.ts
// gathers them through the engine; tests give them directly.
import type { Config } from "../config/types.ts";
import type { Book } from "./book-types.ts";

/** The image's USER, as far as it is known: it decides the securityContext. */
export type ImageUser =
  | { kind: "root" }
  | { kind: "non-root"; uid: number; gid: number }
  /** --image without an engine, or a user name the image's /etc/passwd lacks. */
  | { kind: "unknown"; why: string };

/** The image the workload runs, as it is written into the manifests. */
export interface PinnedImage {
  ref: string;
  /** Never: a local image that was never pushed (nothing to pull by that name); undefined: Kubernetes' default. */
  pullPolicy?: "IfNotPresent" | "Never";
  /** The engine's image id, when it was asked: an annotation of the pod template, so a new image behind the same tag rolls the pods. */
  id?: string;
}

export interface KubeInputs {
  book: Book;
  /** The box's config as it will be loaded inside the container (the image's env and the book's applied). */
  config: Config;
  image: PinnedImage;
  imageUser: ImageUser;
}

/** A manifest: any Kubernetes object, typed where it is built (kubernetes-types). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export type KubeResult =
  /** notes: what decided a choice, printed as comments above the manifests. */
  | { ok: true; objects: KubeObject[]; warnings: string[]; notes: string[] }
  | { ok: false; errors: string[] };

/** Where the control ConfigMap is mounted in the container (a directory: never subPath, which never updates). */
export const CONTROL_DIR = "/etc/boxinit-control";

/** Seconds Kubernetes waits after boxinit's own deadline: its final status write and exit. */
export const GRACE_MARGIN_S = 5;

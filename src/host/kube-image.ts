// What `host kube` asks the engine about the image: the reference to pin
// (the registry digest of IMAGE:run when it was pushed or pulled, else the
// local tag with imagePullPolicy Never), its USER and ENV, and files out of it
// (the box's config, /etc/passwd, /etc/group): a container is created, never
// started, its files read through the archive call, and removed.
import { posix } from "node:path";
import type { Book } from "./book-types.ts";
import { imageRef, TAGS } from "./container-spec.ts";
import { engineCall, findImage, type Dockerode, type Engine } from "./engine.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import type { PinnedImage } from "./kube-types.ts";
import { firstTarEntry } from "./kube-tar.ts";

export interface ImageFacts {
  image: PinnedImage;
  /** The reference files are read from: the image's id. */
  id: string;
  /** Config.User: "" is root. */
  user: string;
  /** Config.Env, NAME=value. */
  env: string[];
  /** Why the pin is what it is, for the manifests' header. */
  note: string;
}

/** `repo@sha256:…` of the book's repository, else any registry digest the image has. */
const repoDigestOf = (book: Book, digests: readonly string[]): string | undefined =>
  digests.find((digest) => digest.slice(0, digest.lastIndexOf("@")) === book.image) ?? digests[0];

/** The promoted image, pinned: a digest when a registry knows it, else the tag (Never pulled). */
export const pinRunImage = async (engine: Engine, book: Book): Promise<ImageFacts> => {
  const ref = imageRef(book, TAGS.run);
  const info = await findImage(engine, ref);
  if (info === undefined) {
    throw new HostError(HOST_EXIT.imageNotFound, `image ${ref} not found`, `promote one (\`boxinit host promote ${book.file}\`), or name it with --image REF`);
  }
  const facts = { id: info.Id, user: info.Config?.User ?? "", env: info.Config?.Env ?? [] };
  const digest = repoDigestOf(book, info.RepoDigests ?? []);
  if (digest !== undefined) return { ...facts, image: { ref: digest, pullPolicy: "IfNotPresent", id: info.Id }, note: `image: ${ref} pinned to its registry digest` };
  return {
    ...facts, image: { ref, pullPolicy: "Never", id: info.Id },
    note: `image: ${ref} (${info.Id}) has no registry digest (never pushed): the tag, never pulled; push it and run host kube again to pin the digest`,
  };
};

/** An image named with --image: its facts when the engine has it. */
export const inspectNamedImage = async (engine: Engine, ref: string): Promise<ImageFacts> => {
  const info = await findImage(engine, ref);
  if (info === undefined) throw new HostError(HOST_EXIT.imageNotFound, `image ${ref} not found in the engine`, "pull it first, or give --config FILE too (then no engine is asked)");
  return { id: info.Id, user: info.Config?.User ?? "", env: info.Config?.Env ?? [], image: { ref, id: info.Id }, note: `image: ${ref} as given with --image` };
};

// The box's config is at most 1 MiB (config/load.ts); passwd and group files are smaller.
const MAX_ARCHIVE_BYTES = 2 * 1024 * 1024;
const MAX_LINKS = 8;

const readStream = async (stream: NodeJS.ReadableStream, what: string): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    length += (chunk as Buffer).length;
    if (length > MAX_ARCHIVE_BYTES) throw new HostError(HOST_EXIT.failed, `${what}: larger than ${MAX_ARCHIVE_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

/** One file of a created container; undefined when it does not exist. Symbolic links are followed inside the image. */
const readContainerFile = async (container: Dockerode.Container, path: string, ref: string): Promise<Buffer | undefined> => {
  let current = path;
  for (let hop = 0; hop <= MAX_LINKS; hop++) {
    let archive: Buffer;
    try {
      archive = await readStream(await container.getArchive({ path: current }), `${ref}:${current}`);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
    let entry: ReturnType<typeof firstTarEntry>;
    try {
      entry = firstTarEntry(archive);
    } catch (error) {
      throw new HostError(HOST_EXIT.failed, `${ref}:${current}: the engine's archive of it cannot be read: ${(error as Error).message}`, undefined, error);
    }
    if (entry.kind === "file") return entry.bytes;
    if (entry.kind === "other") throw new HostError(HOST_EXIT.failed, `${ref}:${current}: not a regular file (tar type ${entry.type})`);
    current = posix.resolve(posix.dirname(current), entry.target);
  }
  throw new HostError(HOST_EXIT.failed, `${ref}:${path}: more than ${MAX_LINKS} symbolic links`);
};

/** Files out of an image (undefined for each one it lacks), through a container that is never started. */
export const readImageFiles = async (engine: Engine, ref: string, paths: readonly string[]): Promise<Map<string, Buffer | undefined>> =>
  await engineCall(engine, `read ${paths.join(", ")} from ${ref}`, async (docker) => {
    // An entrypoint of its own: an image without CMD or ENTRYPOINT cannot be created otherwise; it never runs.
    const container = await docker.createContainer({
      Image: ref, Entrypoint: ["/boxinit-host-kube-never-started"], NetworkDisabled: true, Labels: { "boxinit.kube-read": "1" },
    });
    try {
      const files = new Map<string, Buffer | undefined>();
      for (const path of paths) files.set(path, await readContainerFile(container, path, ref));
      return files;
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  });

// Gathers what `host kube` needs: the image to pin and its facts (through the
// engine, unless both --image and --config are given), and the box's config
// loaded by the project's own loader as the container will load it: the
// image's ENV and the book's env applied, users resolved against the image's
// /etc/passwd and /etc/group.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG_PATH } from "../config/defaults.ts";
import { loadConfig } from "../config/load.ts";
import { isMap } from "../config/schema.ts";
import type { Config } from "../config/types.ts";
import { parseGroup, parsePasswd, resolveUser } from "../config/users.ts";
import { parseYamlText } from "../config/yaml-text.ts";
import type { Book } from "./book-types.ts";
import type { Engine } from "./engine.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import { inspectNamedImage, pinRunImage, readImageFiles, type ImageFacts } from "./kube-image.ts";
import { configFlagOf } from "./kube-pod.ts";
import type { ImageUser, KubeInputs } from "./kube-types.ts";

export interface KubeOptions {
  /** --image REF: the reference written into the manifests, as given. */
  imageRef?: string;
  /** --config FILE: the box's config, instead of the one in the image. */
  configPath?: string;
}

export type GatherResult = { ok: true; inputs: KubeInputs; notes: string[]; warnings: string[] } | { ok: false; errors: string[] };

const PASSWD = "/etc/passwd";
const GROUP = "/etc/group";

/** The image's ENV, then the book's (which docker run -e and the Pod's env override it with). */
const boxEnv = (imageEnv: readonly string[], book: Book): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const line of imageEnv) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return { ...env, ...book.env };
};

/** Docker's USER ("", "0", "app", "1000:1000") against the image's tables. */
const imageUserOf = (user: string, passwd: string, group: string): ImageUser => {
  if (user === "") return { kind: "root" };
  const [name = "", groupName] = user.split(":");
  const lookup = resolveUser({ user: name, ...(groupName !== undefined && { group: groupName }) }, {
    passwd: parsePasswd(passwd), groups: parseGroup(group), passwdFile: PASSWD, groupFile: GROUP,
  });
  if (!lookup.ok) return { kind: "unknown", why: `USER ${JSON.stringify(user)}: ${lookup.message}` };
  return lookup.user.uid === 0 ? { kind: "root" } : { kind: "non-root", uid: lookup.user.uid, gid: lookup.user.gid };
};

/**
 * Without the image, users named in the config cannot be looked up: each
 * gets a placeholder entry so that the rest of the config is still checked.
 */
const placeholderTables = async (configText: string, path: string): Promise<{ passwd: string; group: string }> => {
  const parsed = await parseYamlText(configText, path);
  const names = { users: new Set<string>(), groups: new Set<string>() };
  const root = parsed.ok && isMap(parsed.value) ? parsed.value : {};
  for (const section of [root.services, root.jobs]) {
    for (const entry of Object.values(isMap(section) ? section : {})) {
      if (!isMap(entry)) continue;
      if (typeof entry.user === "string") names.users.add(entry.user);
      if (typeof entry.group === "string") names.groups.add(entry.group);
    }
  }
  return {
    passwd: [...names.users].map((name) => `${name}:x:65534:65534::/:/bin/sh\n`).join(""),
    group: [...names.groups].map((name) => `${name}:x:65534:\n`).join(""),
  };
};

interface ConfigSource {
  /** The config's text, or undefined for none (the image has no config: the defaults). */
  text: string | undefined;
  /** For messages: FILE, or IMAGE:PATH. */
  name: string;
  passwd: string;
  group: string;
}

/** Load the config as boxinit in the container would; its files go through a private temporary directory. */
const loadBoxConfig = async (source: ConfigSource, env: NodeJS.ProcessEnv, imageUser: ImageUser): Promise<{ config: Config; warnings: string[] } | { errors: string[] }> => {
  const dir = mkdtempSync(join(tmpdir(), "boxinit-kube-"));
  try {
    const configFile = join(dir, "boxinit.yaml");
    if (source.text !== undefined) writeFileSync(configFile, source.text);
    writeFileSync(join(dir, "passwd"), source.passwd);
    writeFileSync(join(dir, "group"), source.group);
    const { BOXINIT_CONFIG: _chosen, ...rest } = env;
    const asUser = imageUser.kind === "non-root" ? { isRoot: false, ownUid: imageUser.uid, ownGid: imageUser.gid } : { isRoot: true };
    const result = await loadConfig({ defaultPath: configFile, env: rest, passwdFile: join(dir, "passwd"), groupFile: join(dir, "group"), ...asUser });
    const named = (line: string) => line.replaceAll(configFile, source.name);
    return result.ok ? { config: result.config, warnings: result.warnings.map(named) } : { errors: result.errors.map(named) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const readLocalConfig = (path: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new HostError(HOST_EXIT.usage, `--config ${path}: cannot read the box's config: ${(error as Error).message}`);
  }
};

/** The image's facts and files, through the engine. */
const fromEngine = async (book: Book, options: KubeOptions, engine: Engine): Promise<{ facts: ImageFacts; source: ConfigSource }> => {
  const facts = options.imageRef === undefined ? await pinRunImage(engine, book) : await inspectNamedImage(engine, options.imageRef);
  const env = boxEnv(facts.env, book);
  // The order boxinit itself follows (config/load.ts resolveConfigPath): --config, BOXINIT_CONFIG, the default.
  const configInImage = configFlagOf(book) || env.BOXINIT_CONFIG || DEFAULT_CONFIG_PATH;
  const wanted = options.configPath === undefined ? [configInImage, PASSWD, GROUP] : [PASSWD, GROUP];
  const files = await readImageFiles(engine, facts.id, wanted);
  const text = options.configPath === undefined ? files.get(configInImage)?.toString("utf8") : readLocalConfig(options.configPath);
  const name = options.configPath ?? `${facts.image.ref}:${configInImage}`;
  return { facts, source: { text, name, passwd: files.get(PASSWD)?.toString("utf8") ?? "", group: files.get(GROUP)?.toString("utf8") ?? "" } };
};

/** Everything the generator needs, asking the engine only when --image and --config do not say it all. */
export const gatherKubeInputs = async (book: Book, options: KubeOptions, connect: () => Promise<Engine>): Promise<GatherResult> => {
  let facts: ImageFacts | undefined;
  let source: ConfigSource;
  if (options.imageRef !== undefined && options.configPath !== undefined) {
    const text = readLocalConfig(options.configPath);
    source = { text, name: options.configPath, ...(await placeholderTables(text, options.configPath)) };
  } else {
    ({ facts, source } = await fromEngine(book, options, await connect()));
  }
  const imageUser: ImageUser = facts === undefined ? { kind: "unknown", why: "--image and --config: the engine was not asked" } : imageUserOf(facts.user, source.passwd, source.group);
  const loaded = await loadBoxConfig(source, boxEnv(facts?.env ?? [], book), imageUser);
  if ("errors" in loaded) return { ok: false, errors: loaded.errors.map((error) => `box config: ${error}`) };
  const image = facts?.image ?? { ref: options.imageRef! };
  const notes = [facts?.note ?? `image: ${image.ref} as given with --image`, `box config: ${source.text === undefined ? `none in the image (${source.name}): the defaults` : source.name}`];
  return { ok: true, inputs: { book, config: loaded.config, image, imageUser }, notes, warnings: loaded.warnings.map((warning) => `box config: ${warning}`) };
};

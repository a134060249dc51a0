// Shared by the `boxinit host` tests: runs dist/boxinit host, and makes a book
// of its own per test (a fresh image repository, container name and home
// directory), all removed in teardown, so tests never touch each other's
// containers or tags.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOXINIT } from "./boxinit.ts";
import { docker, dockerOk } from "./docker.ts";
import { stateDirReader, type StateDirReader } from "./state-dir.ts";

export interface HostResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostRunOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this uid (and gid), e.g. to meet the socket's permissions. */
  uid?: number;
  timeoutMs?: number;
}

/** `boxinit host ARGS`; resolves with its exit code and output (rejects only at the deadline). */
export const boxinitHost = (args: readonly string[], options: HostRunOptions = {}): Promise<HostResult> =>
  new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const user = options.uid === undefined ? {} : { uid: options.uid, gid: options.uid };
    execFile(BOXINIT, ["host", ...args], { env: options.env ?? process.env, timeout: timeoutMs, killSignal: "SIGKILL", ...user }, (error, stdout, stderr) => {
      if (error && (error as { killed?: boolean }).killed) {
        reject(new Error(`boxinit host ${args.join(" ")}: no end within ${timeoutMs} ms\n${stdout}${stderr}`));
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });

type Tap = { teardown(fn: () => void | Promise<void>): void; passing(): boolean; name: string };

export interface TestBook extends StateDirReader {
  name: string;
  /** The book's image repository (boxinit-e2e/NAME). */
  repo: string;
  /** NAME-production */
  container: string;
  /** The book file. */
  path: string;
  /** The host side of /docker. */
  home: string;
  /** `boxinit host VERB BOOK ...rest` */
  host(verb: string, ...rest: string[]): Promise<HostResult>;
  /** Tag an existing image as REPO:TAG. */
  tag(source: string, tag: string): Promise<void>;
  /** The image id REPO:TAG names, or undefined. */
  imageId(tag: string): Promise<string | undefined>;
}

let counter = 0;

/**
 * A book for one test: `name`, `image` (its own repository), network none,
 * the home directory mapped to /docker, plus `extra` YAML lines.
 */
export const makeBook = (t: Tap, extra = ""): TestBook => {
  const name = `bx${process.pid}-${Date.now().toString(36)}-${counter++}`;
  const repo = `boxinit-e2e/${name}`;
  const dir = mkdtempSync(join(tmpdir(), "boxinit-host-"));
  const home = join(dir, "home");
  const path = join(dir, `${name}.book.yaml`);
  writeFileSync(path, [`name: ${name}`, `image: ${repo}`, "network: none", "maps:", `  - {src: ${home}, dst: /docker}`, extra].join("\n") + "\n");
  chmodSync(dir, 0o755);
  const container = `${name}-production`;
  t.teardown(async () => {
    if (!t.passing()) {
      const logs = await docker(["logs", container]);
      console.error(`--- docker logs of ${container} (${t.name}) ---\n${logs.stdout}${logs.stderr}`);
    }
    await docker(["rm", "--force", container]);
    await docker(["rm", "--force", `${name}-dry`]);
    for (const tag of ["latest", "run", "previous"]) await docker(["image", "rm", `${repo}:${tag}`]);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    name, repo, container, path, home,
    ...stateDirReader(home, 20, 60_000),
    host: async (verb, ...rest) => await boxinitHost([verb, path, ...rest]),
    tag: async (source, tag) => {
      await dockerOk(["tag", source, `${repo}:${tag}`]);
    },
    imageId: async (tag) => {
      const found = await docker(["image", "inspect", "--format", "{{.Id}}", `${repo}:${tag}`]);
      return found.code === 0 ? found.stdout.trim() : undefined;
    },
  };
};

/** The container's inspect output, or undefined when it does not exist. */
export const inspectContainer = async (name: string): Promise<any> => {
  const found = await docker(["container", "inspect", name]);
  return found.code === 0 ? JSON.parse(found.stdout)[0] : undefined;
};

/** Wait for the container to exit; its exit code. */
export const waitExit = async (name: string, timeoutMs = 60_000): Promise<number> => Number((await dockerOk(["wait", name], timeoutMs)).trim());

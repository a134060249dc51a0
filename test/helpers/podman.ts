// podman for the Kubernetes end-to-end tests (test/e2e/kube-*): `podman kube
// play` is the real engine here that plays Pod, Deployment and ConfigMap
// YAML. podman always runs with boxinit's own containers.conf
// (scripts/podman.sh writes it; system files are left alone), its output goes
// to files, not pipes (podman's conmon inherits podman's stdout and stderr and
// holds them open after podman exits: a pipe would never see EOF), and every
// call has a deadline. Images come from Docker (`docker save | podman load`);
// nothing is ever pulled. What a test plays is removed in teardown by name:
// pods, their containers, and the volumes podman leaves behind.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ROOT, sleep } from "./boxinit.ts";
import { docker, dockerProblem } from "./docker.ts";
import { podNamesOf, volumeNamesOf, type Manifest } from "./kube-manifests.ts";

/** Written by scripts/podman.sh (make podman): no default ulimits, runc. */
export const PODMAN_CONF = join(ROOT, "build/podman/containers.conf");

type Tap = {
  teardown: (fn: () => void | Promise<void>) => void;
  fail: (message: string) => unknown;
  passing: () => boolean;
  name: string;
};

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

const scratch = mkdtempSync(join(tmpdir(), "boxinit-podman-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
let calls = 0;

/**
 * Run a command line with stdout and stderr in files; resolves when the
 * process exits (not when its output closes), rejects at the deadline after
 * a SIGKILL. The command runs with CONTAINERS_CONF set to boxinit's own file.
 */
const runToFiles = (file: string, args: readonly string[], timeoutMs: number): Promise<PodmanResult> => {
  const base = join(scratch, String(calls++));
  const out = openSync(`${base}.out`, "w");
  const err = openSync(`${base}.err`, "w");
  const child = spawn(file, args, { stdio: ["ignore", out, err], env: { ...process.env, CONTAINERS_CONF: PODMAN_CONF } });
  closeSync(out);
  closeSync(err);
  const collect = (): { stdout: string; stderr: string } => {
    const result = { stdout: readFileSync(`${base}.out`, "utf8"), stderr: readFileSync(`${base}.err`, "utf8") };
    rmSync(`${base}.out`, { force: true });
    rmSync(`${base}.err`, { force: true });
    return result;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${file} ${args.join(" ")}: ${error.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const output = collect();
      if (signal === "SIGKILL" && code === null) {
        reject(new Error(`${file} ${args.join(" ")}: no end within ${timeoutMs} ms\n${output.stderr}`));
        return;
      }
      resolve({ code: code ?? 128, ...output });
    });
  });
};

/** Run podman; resolves with its exit code and output, rejects only at the deadline. */
export const podman = (args: readonly string[], timeoutMs = 60_000): Promise<PodmanResult> => runToFiles("podman", args, timeoutMs);

/** Run podman and return stdout; throws with its stderr on a non-zero exit. */
export const podmanOk = async (args: readonly string[], timeoutMs?: number): Promise<string> => {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) throw new Error(`podman ${args.join(" ")}: exit ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
};

const MAKE_HINT = 'run "make podman" as root (scripts/podman.sh: installs podman, runc and catatonit when missing, writes build/podman/containers.conf)';

/** Why the kube tests cannot run here (podman, its config, Docker or an image missing), or undefined. */
export const podmanProblem = async (dockerImages: readonly string[]): Promise<string | undefined> => {
  if (process.getuid?.() !== 0) return "the kube tests run podman as root (rootful pods, hostPath volumes): run them as root";
  if (!existsSync(PODMAN_CONF)) return `${PODMAN_CONF} is missing: ${MAKE_HINT}`;
  let info: PodmanResult;
  try {
    info = await podman(["info", "--format", "{{.Version.Version}}"], 60_000);
  } catch (error) {
    return `podman does not answer (${(error as Error).message.split("\n")[0]}): ${MAKE_HINT}`;
  }
  if (info.code !== 0) return `podman info failed (exit ${info.code}: ${info.stderr.trim().split("\n").at(-1)}): ${MAKE_HINT}`;
  return await dockerProblem(dockerImages);
};

/** Fail (never skip) the test when podman, Docker or an image is missing; true when the test can go on. */
export const requirePodman = async (t: Pick<Tap, "fail">, dockerImages: readonly string[]): Promise<boolean> => {
  const problem = await podmanProblem(dockerImages);
  if (problem === undefined) return true;
  t.fail(problem);
  return false;
};

/**
 * Copy a Docker image into podman's store (`docker save | podman load`),
 * unless podman holds the same image id already; returns podman's name for
 * it, `localhost/REPO:TAG` (podman's name for an image with no registry).
 */
export const loadDockerImage = async (image: string): Promise<string> => await underImageLock(() => loadUnlocked(image));

// The kube test files run in parallel (tap's jobs): two `podman load`s of the
// same image, or a load beside another file's tag of it, once left a test's
// name missing from podman's store (seen in CI). Image changes take turns,
// across processes: a lock file made with O_EXCL, taken over when older than
// any load takes (its holder was killed).
const IMAGE_LOCK = join(tmpdir(), "boxinit-podman-images.lock");
const IMAGE_LOCK_STALE_MS = 600_000;

const underImageLock = async <T>(work: () => Promise<T>): Promise<T> => {
  for (;;) {
    try {
      closeSync(openSync(IMAGE_LOCK, "wx"));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = Date.now() - (statSync(IMAGE_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > IMAGE_LOCK_STALE_MS) rmSync(IMAGE_LOCK, { force: true });
      else await sleep(50);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(IMAGE_LOCK, { force: true });
  }
};

const loadUnlocked = async (image: string): Promise<string> => {
  const id = (await docker(["image", "inspect", "--format", "{{.Id}}", image])).stdout.trim();
  if (!id) throw new Error(`loadDockerImage: Docker has no image ${image}`);
  const name = `localhost/${image.includes(":") ? image : `${image}:latest`}`;
  const held = await podman(["image", "inspect", "--format", "{{.Id}}", name]);
  if (held.code === 0 && `sha256:${held.stdout.trim()}` === id) return name;
  const load = await runToFiles("bash", ["-o", "pipefail", "-c", 'docker save "$1" | podman load', "load", image], 300_000);
  if (load.code !== 0) throw new Error(`docker save ${image} | podman load: exit ${load.code}: ${load.stderr.trim()}`);
  // The copy it replaces lost its name: remove it, unless a container still uses it (then it stays, harmless).
  if (held.code === 0) await podman(["image", "rm", held.stdout.trim()]);
  return name;
};

/**
 * podman's copy of a Docker image also under the name the manifests give it
 * (host kube writes a never-pushed image as its tag with imagePullPolicy
 * Never; podman finds `NAME` as `localhost/NAME`), so the manifests play
 * with their image unchanged. That name is removed in teardown, and only it.
 */
export const podmanImageAs = async (t: Pick<Tap, "teardown">, dockerImage: string, name: string): Promise<void> => {
  await underImageLock(async () => {
    const local = await loadUnlocked(dockerImage);
    await podmanOk(["tag", local, name]);
  });
  // `podman untag IMAGE` alone would remove every name of the image: name the one to remove.
  t.teardown(async () => {
    await underImageLock(() => podman(["untag", `localhost/${name}`, `localhost/${name}`]));
  });
};

/** One container of a played pod (podman names it POD-CONTAINER). */
export class PodContainer {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  exec(command: readonly string[]): Promise<PodmanResult> {
    return podman(["exec", this.name, ...command]);
  }

  /** A file inside the container (podman exec cat), or undefined when it cannot be read. */
  async readFile(path: string): Promise<string | undefined> {
    const result = await this.exec(["cat", path]);
    return result.code === 0 ? result.stdout : undefined;
  }

  async inspect(): Promise<any> {
    return JSON.parse(await podmanOk(["container", "inspect", this.name]))[0];
  }

  /**
   * GET path from 127.0.0.1:port inside the pod's network namespace, as a
   * kubelet's httpGet probe asks (podman itself runs no probe): bash's
   * /dev/tcp, since the image has no HTTP client. The request goes out in
   * one write (dd): bash's printf flushes at each newline, and a server that
   * answers after its first read and closes would reset the rest (SIGPIPE).
   * status 0: no answer.
   */
  async httpGet(port: number, path: string): Promise<{ status: number; body: string; error: string }> {
    const script = 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n" "$2" | dd bs=64k iflag=fullblock status=none >&3 && cat <&3';
    const result = await this.exec(["bash", "-c", script, "http-get", String(port), path]);
    const [head = "", body = ""] = result.stdout.split(/\r?\n\r?\n/, 2);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    return { status, body, error: result.stderr.trim() };
  }

  /** stdout then stderr of the container (podman keeps them apart). */
  async logs(): Promise<string> {
    const result = await podman(["logs", this.name]);
    return result.stdout + result.stderr;
  }

  /** The value of probe() once check(value) holds; polls every pollMs, throws with the last value at the deadline. */
  async waitFor<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 60_000, pollMs = 100): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (check(value)) return value;
      if (Date.now() > deadline) throw new Error(`${this.name}: ${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
      await sleep(pollMs);
    }
  }
}

/** YAML that podman played: its file, pods and containers; removed in teardown. */
export interface PlayedKube {
  file: string;
  pods: readonly string[];
  /** The container `name` of the pod `pod` (the pod's name as played: a Deployment's is NAME-pod-0). */
  container(pod: string, name: string): PodContainer;
}

/** Pods that run in the host's network namespace; podman plays the rest with --network none. */
const networkFlags = (manifests: readonly Manifest[]): string[] => {
  const specs = manifests.map(podSpecOrUndefined).filter((spec) => spec !== undefined);
  const onHost = specs.filter((spec) => spec.hostNetwork === true).length;
  if (onHost === specs.length) return [];
  if (onHost > 0) throw new Error("playKube: some pods have hostNetwork and some not; play them apart");
  // podman's default would be a bridge network with iptables rules: never here.
  return ["--network", "none"];
};

const podSpecOrUndefined = (manifest: Manifest): any =>
  manifest.kind === "Pod" ? manifest.spec : manifest.kind === "Deployment" ? manifest.spec?.template?.spec : undefined;

/** Every image the pods name must be in podman's store already: a pull would leave this machine. */
const requireLocalImages = async (manifests: readonly Manifest[]): Promise<void> => {
  for (const spec of manifests.map(podSpecOrUndefined).filter((each) => each !== undefined)) {
    for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const found = await podman(["image", "exists", container.image]);
      if (found.code !== 0) throw new Error(`playKube: ${container.image} is not in podman's store (loadDockerImage it first; nothing is pulled)`);
    }
  }
};

/** Remove the played pods (their containers with them) and the volumes podman made for the YAML. */
const removePlayed = async (pods: readonly string[], volumes: readonly string[]): Promise<void> => {
  for (const pod of pods) await podman(["pod", "rm", "--force", "--time", "0", pod], 120_000);
  // podman 4.3 leaves a ConfigMap's (and a claim's) volume behind, even after `kube down`.
  for (const volume of volumes) await podman(["volume", "rm", "--force", volume]);
};

/**
 * `podman kube play` of the manifests (one multi-document file), after
 * checking that every image is local; the pods, containers and volumes are
 * removed in teardown (their logs printed first when the test failed).
 */
export const playKube = async (t: Tap, manifests: readonly Manifest[], timeoutMs = 120_000): Promise<PlayedKube> => {
  await requireLocalImages(manifests);
  const dir = mkdtempSync(join(tmpdir(), "boxinit-kube-"));
  const file = join(dir, "play.yaml");
  writeFileSync(file, manifests.map((manifest) => stringify(manifest)).join("---\n"));
  const pods = podNamesOf(manifests);
  const volumes = volumeNamesOf(manifests);
  t.teardown(async () => {
    if (!t.passing()) {
      for (const pod of pods) {
        const listed = await podman(["ps", "--all", "--filter", `pod=${pod}`, "--format", "{{.Names}}"]);
        for (const name of listed.stdout.split("\n").filter((line) => line && !line.endsWith("-infra"))) {
          console.error(`--- podman logs of ${name} (${t.name}) ---\n${await new PodContainer(name).logs()}`);
        }
      }
    }
    await removePlayed(pods, volumes);
    rmSync(dir, { recursive: true, force: true });
  });
  const played = await podman(["kube", "play", ...networkFlags(manifests), file], timeoutMs);
  if (played.code !== 0) throw new Error(`podman kube play ${file}: exit ${played.code}: ${played.stderr.trim()}\n${readFileSync(file, "utf8")}`);
  return { file, pods, container: (pod, name) => new PodContainer(`${pod}-${name}`) };
};

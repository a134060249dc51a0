// Real containers for the e2e tests: the docker CLI with deadlines, containers
// with unique names that are removed (with their anonymous volumes) in
// teardown, host directories bind-mounted as /docker with deadline-bound waits
// on the status file, and Docker's own event timestamps for timing claims.
// Containers only ever get --network none (or host); nothing here sleeps a
// fixed time.
import { execFile } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, sleep } from "./boxinit.ts";
import { stateDirReader, type StateDirReader } from "./state-dir.ts";

export const BASE_IMAGE = "boxinit/base:latest";
/** images/confluence/Dockerfile built from test/fixtures/confluence-standin (make e2e-images). */
export const CONFLUENCE_IMAGE = "boxinit/confluence:standin";
/** images/tomcat: Debian's tomcat10 on the base image, HTTP on 127.0.0.1:18080 (make e2e-images). */
export const TOMCAT_IMAGE = "boxinit/tomcat:latest";
/** examples/postgres: Debian's postgresql-15 on the base image, 127.0.0.1:15432 (make e2e-images). */
export const POSTGRES_IMAGE = "boxinit/postgres:latest";
/** Static test programs (build/fixtures), mounted read-only into containers at /fixtures. */
export const FIXTURES_MOUNT = ["-v", `${join(ROOT, "build/fixtures")}:/fixtures:ro`];
/** Every container these tests make carries this label, so leftovers are easy to find. */
export const E2E_LABEL = "boxinit.e2e=1";

type Tap = {
  teardown: (fn: () => void | Promise<void>) => void;
  fail: (message: string) => unknown;
  passing: () => boolean;
  name: string;
};

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the docker CLI; resolves with its exit code and output, rejects only at the deadline. */
export const docker = (args: readonly string[], timeoutMs = 60_000): Promise<DockerResult> =>
  new Promise((resolve, reject) => {
    execFile("docker", args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as { killed?: boolean }).killed) {
        reject(new Error(`docker ${args.join(" ")}: no answer within ${timeoutMs} ms\n${stderr}`));
        return;
      }
      if (error && typeof error.code !== "number") {
        reject(new Error(`docker ${args.join(" ")}: ${error.message}`));
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });

/** Run the docker CLI and return stdout; throws with its stderr on a non-zero exit. */
export const dockerOk = async (args: readonly string[], timeoutMs?: number): Promise<string> => {
  const result = await docker(args, timeoutMs);
  if (result.code !== 0) throw new Error(`docker ${args.join(" ")}: exit ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
};

const MAKE_HINT =
  'run "make e2e-images" (as root it installs docker.io and mmdebstrap if missing, starts dockerd ' +
  "--bridge=none --iptables=false --ip-forward=false --ip-masq=false, imports debian:bookworm-slim, and builds the images), " +
  "or see scripts/docker-engine.sh";

/** Why the e2e tests cannot run here, or undefined when they can. */
export const dockerProblem = async (images: readonly string[]): Promise<string | undefined> => {
  let info: DockerResult;
  try {
    info = await docker(["info", "--format", "{{.ServerVersion}}"], 20_000);
  } catch (error) {
    return `no Docker engine answers (${(error as Error).message.split("\n")[0]}): ${MAKE_HINT}`;
  }
  if (info.code !== 0) return `no Docker engine answers (docker info: ${info.stderr.trim().split("\n")[0]}): ${MAKE_HINT}`;
  for (const image of images) {
    const found = await docker(["image", "inspect", "--format", "{{.Id}}", image]);
    if (found.code !== 0) return `the image ${image} is missing: ${MAKE_HINT}`;
  }
  return undefined;
};

/** Fail (never skip) the test when Docker or an image is missing; true when the test can go on. */
export const requireDocker = async (t: Pick<Tap, "fail">, images: readonly string[]): Promise<boolean> => {
  const problem = await dockerProblem(images);
  if (problem === undefined) return true;
  t.fail(problem);
  return false;
};

let counter = 0;

/** A container name no other test run uses. */
export const uniqueName = (what: string): string =>
  `boxinit-e2e-${what}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

export interface ContainerOptions {
  image: string;
  /** docker run options (before the image). --network none unless given. */
  options?: readonly string[];
  /** The command after the image. */
  command?: readonly string[];
}

/** A started container: removed in teardown; its log is printed when the test failed. */
export class Container {
  readonly name: string;
  readonly id: string;

  constructor(name: string, id: string) {
    this.name = name;
    this.id = id;
  }

  /** `docker wait`: the exit code, failing after timeoutMs. */
  async wait(timeoutMs = 30_000): Promise<number> {
    const out = await dockerOk(["wait", this.id], timeoutMs);
    return Number(out.trim());
  }

  /** stdout and stderr of the container, interleaved as Docker stored them. */
  async logs(): Promise<string> {
    const result = await docker(["logs", this.id]);
    return result.stdout + result.stderr;
  }

  /**
   * stdout and stderr as one text, line by line in the order Docker stamped
   * them: logs() gives all of stdout before all of stderr, which loses the
   * order between an application's output and boxinit's log lines.
   */
  async logsInOrder(): Promise<string> {
    const result = await docker(["logs", "--timestamps", this.id]);
    const lines = [...stampedLines(result.stdout), ...stampedLines(result.stderr)];
    // Array.prototype.sort is stable: lines stamped alike keep their order.
    lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return lines.map((line) => `${line.text}\n`).join("");
  }

  /**
   * logsInOrder() once every pattern is in it; throws with the log at the
   * deadline. Docker copies a running container's output on its own time: a
   * line written before a state the test saw (a status file, an inspect) may
   * not be in `docker logs` yet. Once the container has exited, it is.
   */
  async waitForLogs(patterns: readonly RegExp[], timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const logs = await this.logsInOrder();
      const missing = patterns.filter((pattern) => !pattern.test(logs));
      if (missing.length === 0) return logs;
      if (Date.now() > deadline) throw new Error(`${this.name}: ${missing.join(", ")} not in its log within ${timeoutMs} ms; log:\n${logs}`);
      await sleep(100);
    }
  }

  async inspect(): Promise<any> {
    return JSON.parse(await dockerOk(["inspect", this.id]))[0];
  }

  exec(command: readonly string[], options: readonly string[] = []): Promise<DockerResult> {
    return docker(["exec", ...options, this.id, ...command]);
  }

  /** `docker stop -t`; Docker itself would SIGKILL after timeoutS. */
  async stop(timeoutS: number): Promise<void> {
    await dockerOk(["stop", "-t", String(timeoutS), this.id], (timeoutS + 30) * 1000);
  }

  /** Docker's own record of this container's lifecycle events (kill with its signal, die with its exit code). */
  async events(): Promise<DockerEvent[]> {
    const out = await dockerOk([
      "events", "--since", "10m", "--until", String(Math.ceil(Date.now() / 1000) + 1),
      "--filter", `container=${this.id}`, "--format", "{{json .}}",
    ]);
    return out.split("\n").filter(Boolean).map((line) => {
      const raw = JSON.parse(line);
      return { action: raw.Action ?? raw.status, timeMs: Number(BigInt(raw.timeNano) / 1_000_000n), attributes: raw.Actor?.Attributes ?? {} };
    });
  }

  /** Poll `docker inspect` until check(state) holds; returns that inspect document. */
  async waitForInspect(check: (inspected: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const inspected = await this.inspect();
      if (check(inspected)) return inspected;
      if (Date.now() > deadline) throw new Error(`${this.name}: ${what} not reached within ${timeoutMs} ms; state: ${JSON.stringify(inspected.State)}`);
      await sleep(100);
    }
  }
}

// `docker logs --timestamps` lines: RFC 3339 with up to 9 fraction digits (trailing zeros dropped), a space, the line.
const stampedLines = (text: string): Array<{ at: string; text: string }> =>
  text.split("\n").filter(Boolean).map((line) => {
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z ?(.*)$/.exec(line);
    if (!match) return { at: "", text: line };
    return { at: `${match[1]}.${(match[2] ?? "").padEnd(9, "0")}`, text: match[3]! };
  });

export interface DockerEvent {
  action: string;
  timeMs: number;
  attributes: Record<string, string>;
}

/** Remove a container and its anonymous volumes; print its log first when the test failed. */
const removeInTeardown = (t: Tap, container: Container): void => {
  t.teardown(async () => {
    if (!t.passing()) console.error(`--- docker logs of ${container.name} (${t.name}) ---\n${await container.logs()}`);
    await docker(["rm", "--force", "--volumes", container.id]);
  });
};

/** docker run -d with a unique name (and --network none unless options say otherwise). */
export const startContainer = async (t: Tap, what: string, spec: ContainerOptions): Promise<Container> => {
  const name = uniqueName(what);
  const options = spec.options ?? [];
  const network = options.some((option) => option.startsWith("--network")) ? [] : ["--network", "none"];
  const run = await docker(["run", "-d", "--name", name, "--label", E2E_LABEL, ...network, ...options, spec.image, ...(spec.command ?? [])]);
  if (run.code !== 0) {
    // It may exist (created, not started): remove it all the same.
    await docker(["rm", "--force", "--volumes", name]);
    throw new Error(`docker run ${name}: exit ${run.code}: ${run.stderr.trim()}`);
  }
  const container = new Container(name, run.stdout.trim());
  removeInTeardown(t, container);
  return container;
};

/** Run to the end (docker run -d + docker wait): exit code and log. */
export const runToEnd = async (t: Tap, what: string, spec: ContainerOptions, timeoutMs = 30_000): Promise<{ code: number; logs: string; container: Container }> => {
  const container = await startContainer(t, what, spec);
  const code = await container.wait(timeoutMs);
  return { code, logs: await container.logs(), container };
};

/** A host directory bind-mounted as a container's state directory (/docker). */
export interface HostStateDir extends StateDirReader {
  path: string;
  /** -v PATH:/docker */
  mount: string[];
  write(name: string, content: string): void;
}

/**
 * A fresh host directory for /docker, mode 0755 (the confluence user must be
 * able to reach server.xml through it), owned by uid when given. Removed in
 * teardown.
 */
export const makeHostStateDir = (t: Pick<Tap, "teardown">, options: { uid?: number } = {}): HostStateDir => {
  const path = mkdtempSync(join(tmpdir(), "boxinit-e2e-state-"));
  chmodSync(path, 0o755);
  if (options.uid !== undefined) chownSync(path, options.uid, options.uid);
  t.teardown(() => rmSync(path, { recursive: true, force: true }));
  return {
    path,
    mount: ["-v", `${path}:/docker`],
    ...stateDirReader(path, 20, 30_000),
    write(name, content) {
      writeFileSync(join(path, name), content);
    },
  };
};

/** A host directory with files, mounted read-only (e.g. /etc/boxinit with a boxinit.yaml). */
export const makeHostConfigDir = (t: Pick<Tap, "teardown">, files: Record<string, string>): string => {
  const path = mkdtempSync(join(tmpdir(), "boxinit-e2e-config-"));
  chmodSync(path, 0o755);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(path, name), content, { mode: 0o644 });
  t.teardown(() => rmSync(path, { recursive: true, force: true }));
  return path;
};

/** Whether something accepts TCP connections on 127.0.0.1:port (false when refused or silent for timeoutMs). */
export const isLoopbackPortOpen = (port: number, timeoutMs = 2000): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (isOpen: boolean): void => {
      socket.destroy();
      resolve(isOpen);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });

/**
 * Fail (never skip) when a --network host container could not have 127.0.0.1:port:
 * something else answering there would pass the warm-up in the app's place.
 */
export const requireFreeLoopbackPort = async (t: Pick<Tap, "fail">, port: number): Promise<boolean> => {
  if (!(await isLoopbackPortOpen(port))) return true;
  t.fail(`127.0.0.1:${port} is already in use on this host (another test run, or a leftover container: docker ps --filter label=${E2E_LABEL}); the --network host tests need it free`);
  return false;
};

/** A fresh, empty host directory (e.g. an application's data directory to bind-mount); removed in teardown. */
export const makeHostDir = (t: Pick<Tap, "teardown">, what: string): string => {
  const path = mkdtempSync(join(tmpdir(), `boxinit-e2e-${what}-`));
  t.teardown(() => rmSync(path, { recursive: true, force: true }));
  return path;
};

/** A file of an image, read with a throwaway container (its entrypoint replaced by cat). */
export const readImageFile = async (image: string, path: string): Promise<string> =>
  dockerOk(["run", "--rm", "--network", "none", "--label", E2E_LABEL, "--entrypoint", "cat", image, path]);

/**
 * Run probe while `status` says word, and return its result only when the
 * status said word both before and after it (so the result belongs to that
 * state); a state that ends before one clean sample fails the test's wait.
 */
export const sampleWhileStatus = async <T>(state: StateDirReader, word: string, probe: () => Promise<T>, timeoutMs = 20_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const before = state.status();
    if (before === word) {
      const result = await probe();
      if (state.status() === word) return result;
    }
    if (Date.now() > deadline) throw new Error(`no probe ran entirely while the status said ${word} within ${timeoutMs} ms (now: ${state.status()})`);
    await sleep(20);
  }
};

/** text with from replaced by to, throwing when from is not there (a config the test edits has changed). */
export const replaceExactly = (text: string, from: string, to: string): string => {
  if (!text.includes(from)) throw new Error(`expected ${JSON.stringify(from)} in:\n${text}`);
  return text.replace(from, to);
};

// A book as the container `host run` creates (Engine API create options) and
// as the equivalent `docker run` command line (`--dry-run`). Both come from
// one argv model, so what the dry run prints is what run creates: the test
// runs the printed line and compares the two containers' inspect output.
import type { Book, Healthcheck } from "./book-types.ts";

/** The container of a book: the seed's naming. */
export const containerName = (book: Book): string => `${book.name}-production`;

/** The image tags boxinit manages for a book's repository. */
export const TAGS = { latest: "latest", run: "run", previous: "previous" } as const;

export const imageRef = (book: Book, tag: string): string => `${book.image}:${tag}`;

/** The label that marks a container as created by `boxinit host` from a book. */
export const BOOK_LABEL = "boxinit.book";

/** Docker's unit for health-check durations. */
const NS_PER_MS = 1_000_000;

/**
 * The process argv as ENTRYPOINT + CMD. `docker run --entrypoint` takes one
 * word only, so an entrypoint argv is split the way the CLI can express it:
 * its first word is the ENTRYPOINT, the rest lead the CMD. The container runs
 * the same argv either way.
 */
export const processArgv = (book: Book): { entrypoint: string | undefined; cmd: string[] } => {
  const command = book.command ?? [];
  if (book.entrypoint === false) return { entrypoint: undefined, cmd: command };
  const argv = book.entrypoint === true ? command : [...book.entrypoint, ...command];
  return { entrypoint: argv[0], cmd: argv.slice(1) };
};

/** Words a POSIX shell reads back as the same argv (for the dry run). */
export const shellQuote = (word: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * `docker run --health-cmd` can only say CMD-SHELL, so an argv test is given
 * to the shell as its quoted words, by run and dry run alike: same check,
 * and the dry run stays exact.
 */
const healthShellCommand = (test: readonly string[]): string =>
  test[0] === "CMD" ? test.slice(1).map(shellQuote).join(" ") : (test[1] ?? "");

const restartPolicy = (restart: string | undefined): { Name: string; MaximumRetryCount: number } => {
  const [name = "no", retries] = (restart ?? "no").split(":");
  return { Name: name, MaximumRetryCount: retries === undefined ? 0 : Number(retries) };
};

const portKey = (dst: number, protocol: string): string => `${dst}/${protocol}`;

/** Go's duration syntax, which `docker run --health-*` parses. */
const goDuration = (ms: number): string => `${ms}ms`;

const healthConfig = (healthcheck: Healthcheck): Record<string, unknown> => {
  if (healthcheck === "none") return { Test: ["NONE"] };
  return {
    Test: ["CMD-SHELL", healthShellCommand(healthcheck.test)],
    ...(healthcheck.intervalMs !== undefined && { Interval: healthcheck.intervalMs * NS_PER_MS }),
    ...(healthcheck.timeoutMs !== undefined && { Timeout: healthcheck.timeoutMs * NS_PER_MS }),
    ...(healthcheck.startPeriodMs !== undefined && { StartPeriod: healthcheck.startPeriodMs * NS_PER_MS }),
    ...(healthcheck.retries !== undefined && { Retries: healthcheck.retries }),
  };
};

/** The Engine API's container create body for a book (POST /containers/create). */
export const createOptions = (book: Book): Record<string, unknown> & { name: string; Image: string } => {
  const { entrypoint, cmd } = processArgv(book);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of book.ports) {
    const key = portKey(port.dst, port.protocol);
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: "", HostPort: String(port.src) });
  }
  return {
    name: containerName(book),
    Image: imageRef(book, TAGS.run),
    ...(entrypoint !== undefined && { Entrypoint: [entrypoint] }),
    ...(cmd.length > 0 && { Cmd: cmd }),
    Env: Object.entries(book.env).map(([key, value]) => `${key}=${value}`),
    Labels: { [BOOK_LABEL]: book.name },
    ...(book.hostname !== undefined && { Hostname: book.hostname }),
    ...(book.ports.length > 0 && { ExposedPorts: exposed }),
    ...(book.healthcheck !== undefined && { Healthcheck: healthConfig(book.healthcheck) }),
    ...(book.stopTimeoutS !== undefined && { StopTimeout: book.stopTimeoutS }),
    HostConfig: {
      Binds: book.maps.map((map) => `${map.src}:${map.dst}${map.isReadOnly ? ":ro" : ""}`),
      PortBindings: bindings,
      RestartPolicy: restartPolicy(book.restart),
      ...(book.network !== undefined && { NetworkMode: book.network }),
    },
  };
};

const healthFlags = (healthcheck: Healthcheck): string[] => {
  if (healthcheck === "none") return ["--no-healthcheck"];
  return [
    "--health-cmd", healthShellCommand(healthcheck.test),
    ...(healthcheck.intervalMs !== undefined ? ["--health-interval", goDuration(healthcheck.intervalMs)] : []),
    ...(healthcheck.timeoutMs !== undefined ? ["--health-timeout", goDuration(healthcheck.timeoutMs)] : []),
    ...(healthcheck.startPeriodMs !== undefined ? ["--health-start-period", goDuration(healthcheck.startPeriodMs)] : []),
    ...(healthcheck.retries !== undefined ? ["--health-retries", String(healthcheck.retries)] : []),
  ];
};

/** The `docker run` argv that creates the same container as createOptions (the dry run). */
export const dockerRunArgv = (book: Book): string[] => {
  const { entrypoint, cmd } = processArgv(book);
  return [
    "docker", "run", "--detach", "--name", containerName(book),
    "--label", `${BOOK_LABEL}=${book.name}`,
    ...(book.hostname !== undefined ? ["--hostname", book.hostname] : []),
    ...(book.network !== undefined ? ["--network", book.network] : []),
    ...(book.restart !== undefined ? ["--restart", book.restart] : []),
    ...(book.stopTimeoutS !== undefined ? ["--stop-timeout", String(book.stopTimeoutS)] : []),
    ...book.ports.flatMap((port) => ["--publish", `${port.src}:${port.dst}${port.protocol === "tcp" ? "" : `/${port.protocol}`}`]),
    ...book.maps.flatMap((map) => ["--volume", `${map.src}:${map.dst}${map.isReadOnly ? ":ro" : ""}`]),
    ...Object.entries(book.env).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
    ...(book.healthcheck !== undefined ? healthFlags(book.healthcheck) : []),
    ...(entrypoint !== undefined ? ["--entrypoint", entrypoint] : []),
    imageRef(book, TAGS.run),
    ...cmd,
  ];
};

/** The dry run's output: one shell command line. */
export const dockerRunLine = (book: Book): string => dockerRunArgv(book).map(shellQuote).join(" ");

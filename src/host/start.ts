// Starting a book's container, for `host run` and `host cron --run`: create and
// start NAME-production from IMAGE:run, as the seed's templated `docker run`
// did, through the Engine API (no shell, so no quoting to get wrong).
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import type { Book, PortMapping } from "./book-types.ts";
import type { HostOutput } from "./output.ts";
import { containerName, createOptions, imageRef, TAGS } from "./container-spec.ts";
import { engineCall, findImage, type Engine } from "./engine.ts";
import { classifyEngineError, HOST_EXIT, HostError } from "./errors.ts";

/** The engine runs on this machine, so its host ports are ours to probe. */
const isLocalEngine = (env: NodeJS.ProcessEnv): boolean => !env.DOCKER_HOST || env.DOCKER_HOST.startsWith("unix://");

type Probe = "free" | "taken" | "unknown";

// Bind the port the way the engine's proxy will (all addresses) and let go at
// once. Only EADDRINUSE means taken: EACCES (a port below 1024 for a user the
// engine, as root, does not share) or no IPv6 says nothing about the port.
const probe = async (port: PortMapping, host: string): Promise<Probe> =>
  await new Promise<Probe>((resolve) => {
    const settle = (error: NodeJS.ErrnoException | undefined) => resolve(error === undefined ? "free" : error.code === "EADDRINUSE" ? "taken" : "unknown");
    if (port.protocol === "udp") {
      const socket = createSocket({ type: host === "::" ? "udp6" : "udp4", ipv6Only: true });
      socket.once("error", (error) => {
        socket.close();
        settle(error);
      });
      socket.bind({ port: port.src, address: host, exclusive: true }, () => socket.close(() => settle(undefined)));
      return;
    }
    const server = createServer();
    server.once("error", settle);
    server.listen({ port: port.src, host, exclusive: true, ipv6Only: true }, () => server.close(() => settle(undefined)));
  });

/**
 * A host port that is already taken, found before anything is created: the
 * engine would create the container and fail only at start, with a message
 * about its proxy. Racy by nature, so the engine's own error is mapped too.
 */
const checkPortsFree = async (book: Book, env: NodeJS.ProcessEnv): Promise<void> => {
  if (!isLocalEngine(env)) return;
  for (const port of book.ports) {
    for (const host of ["0.0.0.0", "::"]) {
      if ((await probe(port, host)) === "taken") {
        throw new HostError(
          HOST_EXIT.portInUse, `${containerName(book)}: host port ${port.src}/${port.protocol} is already in use (${host === "::" ? "IPv6" : "IPv4"})`,
          `stop what listens there (ss -ltnp 'sport = :${port.src}'), or change port[].src in ${book.file}`,
        );
      }
    }
  }
};

const imageMissing = async (engine: Engine, book: Book): Promise<HostError> => {
  const latest = imageRef(book, TAGS.latest);
  const hasLatest = (await findImage(engine, latest)) !== undefined;
  const hint = hasLatest
    ? `\`boxinit host promote ${book.file}\` tags ${latest} as :run`
    : `build ${latest}, then \`boxinit host promote ${book.file}\``;
  return new HostError(HOST_EXIT.imageNotFound, `${containerName(book)}: image ${imageRef(book, TAGS.run)} not found`, hint);
};

/** Create and start the book's container; returns its id. */
export const startContainer = async (engine: Engine, book: Book, out: HostOutput): Promise<string> => {
  const name = containerName(book);
  const image = await findImage(engine, imageRef(book, TAGS.run));
  if (image === undefined) throw await imageMissing(engine, book);
  await checkPortsFree(book, engine.env);
  const container = await engineCall(engine, `create ${name}`, async (docker) => await docker.createContainer(createOptions(book)));
  try {
    await container.start();
  } catch (error) {
    // Leave no created-but-never-started container behind to block the next
    // run's name. Only when the engine said no: after a broken connection it
    // may have started, and cron will find it either way.
    if ((error as { statusCode?: number }).statusCode !== undefined) await container.remove({ force: true }).catch(() => undefined);
    throw classifyEngineError(error, { what: `start ${name}`, env: engine.env });
  }
  out.say(`${name}: started ${container.id.slice(0, 12)} from ${imageRef(book, TAGS.run)} (${image.Id})`);
  return container.id;
};

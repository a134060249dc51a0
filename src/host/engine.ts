// The connection to the Docker engine (dockerode, loaded only by `boxinit
// host`) and the few calls whose "not found" is an answer, not an error.
// Every call goes through engineCall, so every failure reaches the user as a
// HostError with its exit code.
import type Dockerode from "dockerode";
import { loadLibrary } from "../lazy/loader.ts";
import { classifyEngineError, DEFAULT_SOCKET, HOST_EXIT, HostError } from "./errors.ts";

export type { default as Dockerode } from "dockerode";

/** The engine and the environment that chose it (DOCKER_HOST), for messages. */
export interface Engine {
  docker: Dockerode;
  env: NodeJS.ProcessEnv;
}

// An engine that accepts the connection and then never answers (a frozen
// dockerd) must not hang a crontab line for ever; no call of ours streams
// longer than this without a byte (docker-modem's idle timeout, per request).
const ENGINE_IDLE_TIMEOUT_MS = 60_000;

/** Connect lazily to DOCKER_HOST or the default socket; nothing is sent yet. */
export const connectEngine = async (env: NodeJS.ProcessEnv): Promise<Engine> => {
  const { Dockerode } = await loadLibrary("dockerode");
  try {
    // docker-modem would prefer ~/.docker/run/docker.sock (Docker Desktop) when
    // DOCKER_HOST is unset; the docker CLI, and our messages, mean this one.
    const socket = env.DOCKER_HOST ? {} : { socketPath: DEFAULT_SOCKET };
    return { docker: new Dockerode({ timeout: ENGINE_IDLE_TIMEOUT_MS, ...socket }), env };
  } catch (error) {
    // docker-modem parses DOCKER_HOST in its constructor and throws on a bad one.
    throw new HostError(HOST_EXIT.usage, `DOCKER_HOST=${JSON.stringify(env.DOCKER_HOST ?? "")}: ${(error as Error).message}`, undefined, error);
  }
};

/** Run one engine call; any failure becomes a HostError naming `what`. */
export const engineCall = async <T>(engine: Engine, what: string, call: (docker: Dockerode) => Promise<T>): Promise<T> => {
  try {
    return await call(engine.docker);
  } catch (error) {
    throw classifyEngineError(error, { what, env: engine.env });
  }
};

const isNotFound = (error: unknown): boolean => (error as { statusCode?: number }).statusCode === 404;

/** The call's answer, or undefined when the engine says 404: the thing asked about does not exist. */
const unlessMissing = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
};

/** A container's inspect output, or undefined when there is no container of that name. */
export const findContainer = async (engine: Engine, name: string): Promise<Dockerode.ContainerInspectInfo | undefined> =>
  await engineCall(engine, `inspect container ${name}`, async (docker) => await unlessMissing(() => docker.getContainer(name).inspect()));

/** An image's inspect output, or undefined when the reference names no image. */
export const findImage = async (engine: Engine, ref: string): Promise<Dockerode.ImageInspectInfo | undefined> =>
  await engineCall(engine, `inspect image ${ref}`, async (docker) => await unlessMissing(() => docker.getImage(ref).inspect()));

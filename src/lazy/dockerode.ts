// Entry of the separately bundled dockerode (build/lazy/dockerode.cjs; see
// loader.ts): only `boxinit host` talks to a Docker engine.
export { default as Dockerode } from "dockerode";

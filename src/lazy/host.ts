// Entry of the bundle of `boxinit host`, the host-side tool (build/lazy/host.cjs;
// see libraries.ts). Nothing in a container loads it; dockerode, which it
// uses, is a bundle of its own.
export { hostCommand } from "../cli/host.ts";

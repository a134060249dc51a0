// Entry of the bundle of `boxinit host`, the host-side tool (build/lazy/host.cjs;
// see bundles.ts). Nothing in a container loads it; dockerode, which it
// uses, is a bundle of its own.
export { hostMode } from "./host.ts";

// Entry of the bundle that holds the PID 1 runs off the tini-style path:
// Mini-VM mode, the batch job and the side commands (build/lazy/modes.cjs;
// see bundles.ts).
export { miniVmMode } from "./mini-vm.ts";
export { jobMode } from "./job.ts";
export { SIDE_COMMANDS } from "./side.ts";

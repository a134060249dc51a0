// Entry of the bundle of Mini-VM mode (build/lazy/mini-vm.cjs; see
// bundles.ts). On its own, not beside the job and the side commands: a start
// reads and compiles only its own code, with a code cache taken from a real
// Mini-VM start (scripts/make-run-code-cache.ts).
export { miniVmMode } from "./mini-vm.ts";

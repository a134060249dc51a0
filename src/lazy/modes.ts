// Entry of the bundle that holds everything off the tini-style path: Mini-VM
// mode and the side commands (build/lazy/modes.cjs; see libraries.ts). A plain
// `boxinit -- CMD` never parses it, which keeps its start-up at a bare
// Node hello world's (bench/RESULTS.md).
export { miniVmCommand } from "../cli/mini-vm.ts";
export { SIDE_COMMANDS } from "../cli/side-commands.ts";
export { jobCommand } from "../cli/job.ts";

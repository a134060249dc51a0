// Entry of the bundle of `boxinit job` (build/lazy/job.cjs; see bundles.ts),
// with a code cache taken from a real job run (scripts/make-run-code-cache.ts).
// Scheduled jobs run in Mini-VM mode's own bundle.
export { jobMode } from "./job.ts";

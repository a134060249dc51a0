// Entry of the bundle of the commands that run beside PID 1: status, backoff,
// health, check, logs (build/lazy/side.cjs; see bundles.ts). `boxinit health`
// is an exec probe, run every few seconds: it loads none of the supervisor.
export { SIDE_COMMANDS } from "./side.ts";

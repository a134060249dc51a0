// Entry of the bundle that keeps a self-managing tini-style run's state
// directory (build/lazy/box.cjs; see bundles.ts): loaded a turn after the
// command was spawned (tini-box.ts), or before, when backoff is engaged and
// nothing runs; never by a plain `boxinit -- CMD` without a state directory.
export { backOffAtStart, startCommandBox } from "../control/command-box.ts";

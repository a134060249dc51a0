// Entry of the bundle that keeps a self-managing tini-style run's state
// directory (build/lazy/box.cjs; see libraries.ts): loaded a turn after the
// command was spawned, or before nothing runs when backoff is engaged, and
// never by a plain `boxinit -- CMD` without a state directory.
export { backOffAtStart, startCommandBox } from "../control/command-box.ts";

// The names service code starts its processes by, kept while it moves to
// pid1/start-process.ts (which starts them through pid1/spawn.ts, the one
// fork path): nothing here but re-exports.
export {
  environmentFor, notStartedByShortage, startProcess, startProcessWith,
  type NotStarted, type ProcessSpec, type Started,
} from "../pid1/start-process.ts";

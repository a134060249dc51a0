// The names of boxinit's lifecycle events: the vocabulary of its log, which
// tests and log processors match on. Add a name here before logging it.

export type LogEvent =
  | "usage"
  | "addon"
  | "subreaper"
  | "spawned"
  | "spawn-failed"
  | "terminal"
  | "signal-forwarded"
  | "signal-dropped"
  | "orphan-reaped"
  | "reaper"
  | "child-exited"
  | "shutdown"
  | "phase-overran"
  | "killed"
  | "exit"
  | "internal-error"
  | "selftest";

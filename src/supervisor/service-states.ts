// A service's life as an explicit table: which event may move it from which
// state to which. The supervisor asks the table before every change, so an
// impossible pair is logged as a bug instead of silently corrupting the status.

export type ServiceState =
  | "pending"
  | "starting"
  | "warming"
  | "running"
  | "restarting"
  | "stopping"
  | "stopped"
  | "exited"
  | "failed";

/** "deferred": it could not be started for a shortage of boxinit's own resources (fds, processes, memory) and waits to try again. */
export type ServiceEvent = "start" | "spawned" | "deferred" | "warmup-passed" | "exited" | "restart-due" | "stop" | "stop-done";

/** Allowed next states per (state, event). */
export const SERVICE_TRANSITIONS: Record<ServiceState, Partial<Record<ServiceEvent, readonly ServiceState[]>>> = {
  pending: { start: ["starting"], stop: ["stopped"] },
  starting: { spawned: ["warming", "running"], deferred: ["restarting"], exited: ["restarting", "exited", "failed"], stop: ["stopping"] },
  warming: { "warmup-passed": ["running"], exited: ["restarting", "exited", "failed"], stop: ["stopping"] },
  running: { exited: ["restarting", "exited", "failed"], stop: ["stopping"] },
  restarting: { "restart-due": ["starting"], stop: ["stopped"] },
  stopping: { "stop-done": ["stopped"] },
  stopped: {},
  exited: { stop: ["exited"] },
  failed: { stop: ["failed"] },
};

/** The next state, or undefined when the table does not allow it. */
export const nextServiceState = (from: ServiceState, event: ServiceEvent, to: ServiceState): ServiceState | undefined =>
  SERVICE_TRANSITIONS[from][event]?.includes(to) ? to : undefined;

/** States in which the service has ended for good (no restart will follow). */
export const isFinalServiceState = (state: ServiceState): boolean => state === "stopped" || state === "exited" || state === "failed";

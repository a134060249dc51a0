// Two PID 1s must not share a state directory: a second boxinit started in a
// running container (`docker exec box boxinit -- x` with the image's config)
// would start the services again and overwrite the live status. The owner is
// the boxinit that status.json names, when that process is still a boxinit
// (or a container's PID 1 with a fresh heartbeat). A restarted container's
// new PID 1 is that same pid 1, so it takes its own state dir back.
import { readlinkSync } from "node:fs";
import { ageMs, hasEnded, maxAgeFor, readStatus } from "./status-read.ts";

/** The live boxinit that owns the state directory, or undefined when none does. */
export const liveOwnerOf = (stateDir: string, nowMs = Date.now()): { pid: number; state: string } | undefined => {
  const read = readStatus(stateDir);
  if (!read.ok) return undefined;
  const { pid, state, updatedAt } = read.document;
  if (typeof pid !== "number" || pid === process.pid || hasEnded(read.document)) return undefined;
  // A status that stopped being refreshed belongs to a boxinit that is gone.
  const age = ageMs(updatedAt, nowMs);
  if (age === undefined || age > maxAgeFor(read.document)) return undefined;
  // A container's PID 1 (its pid is 1 only inside its namespace): seen from
  // the host, or from a namespace of our own, it cannot be looked up, and a
  // fresh heartbeat says it is alive.
  if (pid === 1) return { pid, state };
  // The pid may have been reused: only a process running this same executable counts.
  try {
    return readlinkSync(`/proc/${pid}/exe`) === readlinkSync("/proc/self/exe") ? { pid, state } : undefined;
  } catch {
    return undefined; // gone, or not ours to look at: nothing to protect
  }
};

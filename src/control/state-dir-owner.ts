// Two PID 1s must not share a state directory: a second boxinit started in a
// running container (`docker exec box boxinit -- x` with the image's config)
// would start the services again and overwrite the live status. The owner is
// the boxinit that status.json names, when that process is still a boxinit.
import { readlinkSync } from "node:fs";
import { ageMs, FINAL_STATES, maxAgeFor, readStatus } from "./status-read.ts";

/** The live boxinit that owns the state directory, or undefined when none does. */
export const liveOwnerOf = (stateDir: string, nowMs = Date.now()): { pid: number; state: string } | undefined => {
  const read = readStatus(stateDir);
  if (!read.ok) return undefined;
  const { pid, state, updatedAt } = read.document;
  if (typeof pid !== "number" || pid === process.pid || FINAL_STATES.has(state)) return undefined;
  // A status that stopped being refreshed belongs to a boxinit that is gone.
  const age = ageMs(updatedAt, nowMs);
  if (age === undefined || age > maxAgeFor(read.document)) return undefined;
  // The pid may have been reused (a restarted container is PID 1 again, and is
  // this process): only a process running this same executable counts.
  try {
    return readlinkSync(`/proc/${pid}/exe`) === readlinkSync("/proc/self/exe") ? { pid, state } : undefined;
  } catch {
    return undefined; // gone, or not ours to look at: nothing to protect
  }
};

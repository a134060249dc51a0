// A warm-up command check started through the addon instead of Node's spawn:
// a fork from boxinit's 100 MB process is cheaper without libuv's stdio
// plumbing, and its end comes straight from the reaper (bench scenario 7:
// the check is on the path from start to `running`).
import { closeSync } from "node:fs";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { UserSpec } from "../config/types.ts";
import type { Ending } from "../pid1/exit-code.ts";
import { notStartedByShortage, startProcess } from "./spawn.ts";

/** A running check: its output (stdout and stderr together) arrives on outputFd. */
export interface CheckHandle {
  pid: number;
  ended: Promise<Ending>;
  /** Read end of the check's output pipe; the caller reads and closes it. */
  outputFd: number;
}

/** How a check is started; a problem when it cannot be. */
export type StartCheck = (argv: readonly string[], run: { env: NodeJS.ProcessEnv; cwd?: string; user?: UserSpec }) => CheckHandle | { problem: string };

/** A StartCheck that forks through the addon; the check is the reaper's child, in a session of its own. */
export const addonCheckStarter = (native: Native, reaper: Reaper): StartCheck => (argv, run) => {
  let pipe: [number, number];
  try {
    pipe = native.makePipe();
  } catch (error) {
    // Out of fds: this try fails (and says why), the next one comes at the interval.
    const shortage = notStartedByShortage(error, "its output pipe");
    if (!shortage) throw error;
    return { problem: `cannot run it now: ${shortage.problem}` };
  }
  const [readFd, writeFd] = pipe;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(run.env)) if (value !== undefined) env[key] = value;
  // startProcess closes writeFd (both slots) in boxinit once the child has it.
  const started = startProcess({ argv, env, cwd: run.cwd, user: run.user, output: { outFd: writeFd, errFd: writeFd } }, native, reaper);
  if ("problem" in started) {
    closeSync(readFd);
    return { problem: `cannot run ${started.problem}` };
  }
  return { pid: started.pid, ended: started.ended, outputFd: readFd };
};

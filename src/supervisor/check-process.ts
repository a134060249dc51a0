// How a warm-up command check is started: like a service (its environment,
// directory and user, a session of its own) with its output on one pipe,
// through the one fork path (pid1/spawn.ts). With the addon a fork from
// boxinit's 100 MB process is cheaper than libuv's stdio plumbing, and its end
// comes straight from the reaper (bench scenario 7: the check is on the path
// from start to `running`).
import type { ProcessOutput } from "../pid1/polled-pipe.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import type { Forker } from "../pid1/spawn.ts";
import type { UserSpec } from "../config/types.ts";
import type { Ending } from "../pid1/exit-code.ts";
import { startProcessWith } from "../pid1/start-process.ts";

/** A running check: its output arrives on `output` (stdout and stderr with the addon, stderr without). */
export interface CheckHandle {
  pid: number;
  ended: Promise<Ending>;
  /** The caller reads and destroys it. */
  output: ProcessOutput;
}

/** How a check is started; a problem when it cannot be. */
export type StartCheck = (argv: readonly string[], run: { env: NodeJS.ProcessEnv; cwd?: string; user?: UserSpec }) => CheckHandle | { problem: string };

/** A StartCheck through the addon when forker is given, else through Node's spawn. */
export const checkStarter = (forker: Forker | undefined): StartCheck => (argv, run) => {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(run.env)) if (value !== undefined) env[key] = value;
  const started = startProcessWith({ argv, env, cwd: run.cwd, user: run.user, output: "pipe" }, forker);
  if ("problem" in started) return { problem: `cannot run ${started.problem}` };
  // output "pipe" always comes back with its read end.
  return { pid: started.pid, ended: started.ended, output: started.output! };
};

/** A StartCheck that forks through the addon; the check is the reaper's child. */
export const addonCheckStarter = (native: Native, reaper: Reaper): StartCheck => checkStarter({ native, reaper });

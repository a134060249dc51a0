// Test hook (--x-selftest-spawn N): spawns N short children from inside the
// boxinit process, half through spawn and half through execFile (Node's two
// ways in; execa and the rest end in the same ChildProcess#spawn), while the
// reaper works on orphans. Proves the reaper never steals an exit status
// libuv waits for: every child's exit code must come back exactly.
// (execa used to drive the second half; it brought signal-exit, whose
// process.on('SIGx') listeners re-raise a signal at boxinit: issue 14.)
import { nodeChildProcess } from "./reaper.ts";
import type { Logger } from "../log/logger.ts";

// Exits spread over about a second, so they land during whatever the test
// does meanwhile (an orphan storm, a signal flood).
const script = (i: number, code: number): string => `sleep 0.${i % 10}; exit ${code}`;

const viaChildProcess = (i: number, code: number): Promise<number | null> =>
  new Promise((resolve) => {
    const child = nodeChildProcess().spawn("/bin/sh", ["-c", script(i, code)], { stdio: "ignore" });
    child.once("error", () => resolve(null));
    child.once("exit", (exitCode) => resolve(exitCode));
  });

const viaExecFile = (i: number, code: number): Promise<number | null> =>
  new Promise((resolve) => {
    nodeChildProcess().execFile("/bin/sh", ["-c", script(i, code)], (error) => {
      if (error === null) return resolve(0);
      resolve(typeof error.code === "number" ? error.code : null);
    });
  });

// A lost exit event would hang the storm forever; the tally is logged anyway.
const STORM_LIMIT_MS = 20_000;

/** Spawn count children concurrently; logs one `selftest` line with the tally. */
export const spawnStorm = async (count: number, log: Logger): Promise<void> => {
  let exitEvents = 0;
  let correct = 0;
  const runs: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const expected = (i * 7) % 256;
    const run = i % 2 === 0 ? viaChildProcess(i, expected) : viaExecFile(i, expected);
    runs.push(run.then((got) => {
      exitEvents++;
      if (got === expected) correct++;
    }));
  }
  let limit: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(runs), new Promise((resolve) => { limit = setTimeout(resolve, STORM_LIMIT_MS); })]);
  clearTimeout(limit);
  log.warn("selftest", "spawn storm finished", { spawned: count, exitEvents, correct });
};

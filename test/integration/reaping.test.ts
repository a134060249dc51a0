// Zombie reaping under load: 5000 double-forked orphans while 200 children run
// inside boxinit through child_process and execa. Every zombie must be reaped
// and no exit status libuv waits for may be stolen. 8 runs in a row per mode.
// How fast boxinit reaps is a benchmark (bench/orphans.sh), not a test: here
// the fixture waits as long as the number of zombies keeps going down and
// fails only when it stops (2 s without progress), so a loaded machine slows
// the run without failing it.
import t from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODES, fixture, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";

t.teardown(killAllRuns);

// 8, not 20 as before: a run takes 11-15 s on a slow 2-core machine (10,000
// forks for the orphans alone), and 2 x 20 of them came within 100 s of tap's
// 600 s limit for one file. 8 runs still see 1,600 exits Node waits for per mode.
const RUNS = 8;
// Only a hang is caught with this: every phase of a run ends on its own
// (the orphans once made, the reaping on a stall, the spawn storm at
// boxinit's own 20 s limit), however slowly a busy machine runs them.
const HANG_GUARD_MS = 180_000;

for (const mode of MODES) {
  t.test(`${mode}: orphan storm with Node-owned children`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const dir = mkdtempSync(join(tmpdir(), "boxinit-reaping-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const failures: string[] = [];
    const tookMs: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const startedAt = Date.now();
      // The fixture stays until released, and it is released only once boxinit
      // has said how its spawn storm ended: the storm overlaps the orphans and
      // is tallied before the main command's end stops boxinit.
      const release = join(dir, `release-${run}`);
      const started = startBoxinit(mode, ["-q", "--x-selftest-spawn", "200", "--", fixture("orphans"), "5000", "2000", release]);
      try {
        await started.waitFor(/spawn storm finished/, "stderr", HANG_GUARD_MS);
        await started.waitFor(/^orphans=5000 zombies=\d+/m, "stdout", HANG_GUARD_MS);
      } finally {
        writeFileSync(release, "");
      }
      const result = { ...(await started.result(HANG_GUARD_MS)), stdout: started.stdout, stderr: started.stderr };
      tookMs.push(Date.now() - startedAt);
      const zombies = /orphans=5000 zombies=(\d+)/.exec(result.stdout)?.[1];
      const storm = /spawn storm finished spawned=200 exitEvents=(\d+) correct=(\d+)/.exec(result.stderr);
      if (result.code !== 0 || zombies !== "0" || storm?.[1] !== "200" || storm?.[2] !== "200") {
        failures.push(`run ${run}: code=${result.code} zombies=${zombies} storm=${storm?.[0]}\n${result.stdout}${result.stderr}`);
      }
    }
    t.same(failures, [], `${RUNS} runs: every zombie reaped and 200/200 exit events with the right codes`);
    t.comment(`runs took ${Math.min(...tookMs)}–${Math.max(...tookMs)} ms`);
  });

  t.test(`${mode}: a zombie re-parented from a live subtree is reaped`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    // The grandchild is orphaned while the main command keeps running; the
    // fixture counts zombies of boxinit after making its own orphans.
    const result = await runBoxinit(mode, ["-q", "--", "/bin/sh", "-c", `(sh -c 'exit 0' &) ; ${fixture("orphans")} 10 2000`]);
    t.equal(result.code, 0);
    t.match(result.stdout, /zombies=0/);
  });
}

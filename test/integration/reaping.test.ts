// Zombie reaping under load: 5000 double-forked orphans while 200 children run
// inside boxinit through child_process and execa. No zombie may outlive 2 s,
// and no exit status libuv waits for may be stolen. 20 runs in a row per mode.
import t from "tap";
import { MODES, fixture, killAllRuns, missingPrerequisite, runBoxinit } from "../helpers/boxinit.ts";

t.teardown(killAllRuns);

const RUNS = 20;

for (const mode of MODES) {
  t.test(`${mode}: orphan storm with Node-owned children`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const failures: string[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const result = await runBoxinit(mode, ["-q", "--x-selftest-spawn", "200", "--", fixture("orphans"), "5000", "2000", "2500"], { timeoutMs: 60_000 });
      const zombies = /orphans=5000 zombies=(\d+)/.exec(result.stdout)?.[1];
      const storm = /spawn storm finished spawned=200 exitEvents=(\d+) correct=(\d+)/.exec(result.stderr);
      if (result.code !== 0 || zombies !== "0" || storm?.[1] !== "200" || storm?.[2] !== "200") {
        failures.push(`run ${run}: code=${result.code} zombies=${zombies} storm=${storm?.[0]}\n${result.stdout}${result.stderr}`);
      }
    }
    t.same(failures, [], `${RUNS} runs: 0 zombies after 2 s and 200/200 exit events with the right codes`);
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

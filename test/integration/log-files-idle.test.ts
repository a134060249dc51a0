// log_files across idle-backoff boots, on the built binary as PID 1 and as a
// subreaper: each boot makes its services afresh, but a service's log file
// keeps one writer for the whole process. A writer per boot leaked its file
// and directory fds at every engage and release, and kept a rotated-out file
// open (found in review).
import t from "tap";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

/** How many of boxinit's fds are open on a file or directory under dir. */
const fdsUnder = (pid: number, dir: string): number =>
  readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir);
    } catch {
      return false; // closed meanwhile
    }
  }).length;

for (const mode of MODES) {
  t.test(`${mode}: three boots after idle backoff, one log writer`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const box = makeBox(t, `grace: 3s
heartbeat: 1s
backoff: { on_engage: idle }
log_files: { timestamps: false }
services:
  web:
    command: "echo boot-line; exec sleep 1000"
`);
    const logDir = join(box.stateDir, "logs", "services");
    const run = startBoxinit(mode, box.args);
    t.teardown(() => run.kill());
    await box.waitForStatus("running");
    await run.waitFor(/^web \| boot-line$|^boot-line$/m);
    const pid = await run.boxinitPid();
    const first = fdsUnder(pid, logDir);
    t.ok(first >= 1, `the writer holds the log file open (${first} fds under the log directory)`);
    for (let cycle = 1; cycle <= 2; cycle++) {
      box.setBackoff("true\n");
      await box.waitForStatus("backedoff");
      box.setBackoff("false\n");
      await box.waitForStatus("running");
      await run.waitFor(new RegExp(Array.from({ length: cycle + 1 }, () => "boot-line").join("[\\s\\S]*")));
    }
    t.equal(fdsUnder(pid, logDir), first, "the same number of fds after two more boots: no writer per boot");
    const lines = readFileSync(join(logDir, "web.log"), "utf8").split("\n").filter((line) => line.endsWith("boot-line"));
    t.equal(lines.length, 3, "each boot's line in the one file");
    await run.signal("SIGTERM");
    t.equal((await run.result()).code, 0);
  });
}

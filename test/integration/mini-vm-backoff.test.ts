// The backoff file on the built binary: every way people and host tools write
// it (in place, rename over, delete and recreate, a Kubernetes ConfigMap swap)
// stops the running services and ends in `backedoff` with the stop command's
// code; engaged at start, nothing starts; unexpected content is warned about
// once. inotify and poll mode; each as PID 1 and as subreaper.
import t from "tap";
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, ROOT, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const STOP_PIDFILE = join(ROOT, "test/fixtures/mini-vm/stop-pidfile.sh");
const FINAL = ["stopped", "backedoff", "failed"];

// inotify mode re-reads the file every 5 s anyway; a reaction well within that
// shows the change itself was seen. Poll mode here polls every 100 ms.
const REACTION_MS = 3000;

type Watch = "inotify" | "poll";
const WATCH_CONFIG: Record<Watch, string> = {
  inotify: "",
  poll: "backoff: {watch: poll, poll_interval: 100ms}\n",
};

/** A box with one service `svc` that records its pid; with stopCode, a stop command that exits with it. */
const serviceBox = (t: Parameters<typeof makeBox>[0], watch: Watch, stopCode?: number): Box =>
  makeBox(t, `grace: 5s
${WATCH_CONFIG[watch]}services:
  svc:
    command: "echo $$ > BOX/svc.pid; exec sleep 1000"
${stopCode === undefined ? "" : `    stop: [${STOP_PIDFILE}, BOX/svc.pid, BOX/stopped, "${stopCode}"]\n`}`);

/** The ConfigMap layout: backoff -> ..data/backoff, ..data -> ..2026_01_01_a (backoff: false). */
const plantConfigMap = (stateDir: string): void => {
  mkdirSync(join(stateDir, "..2026_01_01_a"));
  writeFileSync(join(stateDir, "..2026_01_01_a/backoff"), "false\n");
  symlinkSync("..2026_01_01_a", join(stateDir, "..data"));
  symlinkSync("..data/backoff", join(stateDir, "backoff"));
};

/** What kubelet does on a ConfigMap update: a new timestamped dir, ..data_tmp pointing at it, renamed over ..data. */
const swapConfigMap = (stateDir: string): void => {
  mkdirSync(join(stateDir, "..2026_01_01_b"));
  writeFileSync(join(stateDir, "..2026_01_01_b/backoff"), "true\n");
  symlinkSync("..2026_01_01_b", join(stateDir, "..data_tmp"));
  renameSync(join(stateDir, "..data_tmp"), join(stateDir, "..data"));
};

interface EngageCase {
  name: string;
  /** The stop command's exit code; undefined: no stop command (stop signal). */
  stopCode: number | undefined;
  before(box: Box): void;
  engage(box: Box): void;
}

const ENGAGE_CASES: readonly EngageCase[] = [
  {
    name: "written in place",
    stopCode: 3,
    before: (box) => box.setBackoff("false\n"),
    engage: (box) => box.setBackoff("true\n"),
  },
  {
    name: "written to a temp file and renamed over",
    stopCode: undefined,
    before: (box) => box.setBackoff("false\n"),
    engage: (box) => {
      writeFileSync(join(box.stateDir, ".backoff.new"), "true\n");
      renameSync(join(box.stateDir, ".backoff.new"), join(box.stateDir, "backoff"));
    },
  },
  {
    name: "deleted, then recreated with true",
    stopCode: 0,
    before: (box) => box.setBackoff("false\n"),
    engage: (box) => {
      unlinkSync(join(box.stateDir, "backoff"));
      writeFileSync(join(box.stateDir, "backoff"), "true");
    },
  },
  {
    name: "swapped the Kubernetes ConfigMap way (..data_tmp renamed over ..data)",
    stopCode: 6,
    before: (box) => plantConfigMap(box.stateDir),
    engage: (box) => swapConfigMap(box.stateDir),
  },
];

for (const mode of MODES) {
  t.test(`${mode}: backoff`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    t.teardown(killAllRuns);

    for (const watch of ["inotify", "poll"] as const) {
      for (const engageCase of ENGAGE_CASES) {
        const expectedCode = engageCase.stopCode ?? 0;
        await t.test(`${watch}: backoff ${engageCase.name} while running → backedoff, exit ${expectedCode}`, async (t) => {
          const box = serviceBox(t, watch, engageCase.stopCode);
          engageCase.before(box);
          const run = startBoxinit(mode, box.args);
          t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running", "running first");
          t.equal(box.statusJson()?.backoff, false, "status.json: backoff not engaged");
          const pid = readFileSync(join(box.dir, "svc.pid"), "utf8").trim();
          engageCase.engage(box);
          await box.waitForStatus(["stopping", "backedoff"], REACTION_MS);
          const ended = await run.result();
          t.equal(ended.code, expectedCode, engageCase.stopCode === undefined ? "0: no stop command, all stopped in time" : "the stop command's code");
          t.equal(box.status(), "backedoff");
          t.equal(box.statusJson()?.backoff, true, "status.json: backoff engaged");
          t.equal(box.statusJson()?.exitCode, expectedCode);
          t.equal(box.statusJson()?.services.svc.state, "stopped");
          t.match(run.stderr, /stopping: backoff engaged/);
          if (engageCase.stopCode === undefined) {
            t.match(run.stderr, /sent SIGTERM to service svc/, "the stop signal went to the service");
          } else {
            t.equal(readFileSync(join(box.dir, "stopped"), "utf8"), `stopped ${pid}\n`, "the stop command ran");
          }
        });
      }
    }

    await t.test("backoff already true at start: nothing starts, backedoff, exit 0", async (t) => {
      const box = makeBox(t, `services:
  svc:
    command: "touch BOX/svc-started; exec sleep 1000"
`);
      box.script("init.d/10-init", `touch ${box.dir}/init-ran\n`);
      box.setBackoff("true\n");
      const result = await runBoxinit(mode, box.args);
      t.equal(result.code, 0);
      t.equal(box.status(), "backedoff");
      t.equal(box.statusJson()?.backoff, true);
      t.equal(box.statusJson()?.exitCode, 0);
      t.notOk(existsSync(join(box.dir, "svc-started")), "the service did not start");
      t.notOk(existsSync(join(box.dir, "init-ran")), "no init script ran");
      t.match(result.stderr, /backoff is engaged .* starting nothing/);
      t.notMatch(result.stderr, /started service/);
    });

    await t.test("unexpected content is warned about once and does not engage; then true does", async (t) => {
      const box = serviceBox(t, "inotify");
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running", "running first");
      box.setBackoff("ture\n");
      await run.waitFor(/unexpected content in the backoff file.*content=ture/, "stderr", REACTION_MS);
      t.equal(box.status(), "running", "still running");
      t.equal(box.statusJson()?.backoff, false, "status.json: not engaged");
      box.setBackoff("ture");
      box.setBackoff("true\n");
      await box.waitForStatus(["stopping", "backedoff"], REACTION_MS);
      t.equal((await run.result()).code, 0);
      t.equal(box.status(), "backedoff");
      const warnings = run.stderr.match(/unexpected content in the backoff file/g) ?? [];
      t.equal(warnings.length, 1, "warned once for the same content");
    });
  });
}

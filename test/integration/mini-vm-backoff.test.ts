// The backoff file on the built binary: every way people and host tools write
// it (in place, rename over, delete and recreate, a Kubernetes ConfigMap swap)
// stops the running services (a daemon followed through its pidfile too) and
// ends in `backedoff` with the stop command's code; engaged at start, nothing
// starts; unexpected content is warned about once. inotify and poll mode; each
// as PID 1 and as subreaper.
import t from "tap";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, ROOT, killAllRuns, missingPrerequisite, runBoxinit, sleep, startBoxinit } from "../helpers/boxinit.ts";
import { freePort, hasPython, loggedAt, makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const DAEMON_START = join(ROOT, "test/fixtures/daemons/http-daemon-start.sh");
const STOP_PIDFILE = join(ROOT, "test/fixtures/daemons/stop-pidfile.sh");
const FINAL = ["stopped", "backedoff", "failed"];

// inotify mode re-reads the file every 5 s anyway; a reaction well within that
// shows the change itself was seen. Poll mode here polls every 100 ms. The
// reaction is measured up to the time in boxinit's own log line, so a slow
// test runner (polling, scheduling) does not count against boxinit.
const REACTION_MS = 3000;

type Watch = "inotify" | "poll";
const WATCH_CONFIG: Record<Watch, string> = {
  inotify: "",
  poll: "backoff: {watch: poll, poll_interval: 100ms}\n",
};

/**
 * A box with one service `svc` that records its pid, then prints `svc-ready`;
 * with stopCode, a stop command that exits with it.
 */
const serviceBox = (t: Parameters<typeof makeBox>[0], watch: Watch, stopCode?: number): Box =>
  makeBox(t, `grace: 5s
${WATCH_CONFIG[watch]}services:
  svc:
    command: "echo $$ > BOX/svc.pid; echo svc-ready; exec sleep 1000"
${stopCode === undefined ? "" : `    stop: [${STOP_PIDFILE}, BOX/svc.pid, BOX/stopped, "${stopCode}"]\n`}`);

/** Whether reading a file in `dir` updates its atime (not so on a noatime mount). */
const isAtimeRecorded = (dir: string): boolean => {
  const probe = join(dir, "atime-probe");
  writeFileSync(probe, "probe\n");
  utimesSync(probe, 0, statSync(probe).mtime);
  readFileSync(probe);
  return statSync(probe).atimeMs > 0;
};

/**
 * Put `content` in the backoff file (a new file renamed over it) and wait
 * until boxinit has read it. The proof is the new file's atime: set to the
 * epoch before the rename, moved by the first read (relatime updates an atime
 * older than the mtime), and nobody but boxinit reads the file.
 */
const replaceBackoffAndAwaitRead = async (box: Box, content: string, timeoutMs = 10_000): Promise<void> => {
  const next = join(box.dir, "backoff.next");
  const file = join(box.stateDir, "backoff");
  writeFileSync(next, content);
  utimesSync(next, 0, statSync(next).mtime);
  renameSync(next, file);
  const deadline = Date.now() + timeoutMs;
  while (statSync(file).atimeMs === 0) {
    if (Date.now() > deadline) throw new Error(`boxinit did not read the backoff file (${JSON.stringify(content)}) within ${timeoutMs} ms`);
    await sleep(5);
  }
};

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
          // JSON: its lines carry boxinit's own time, to measure the reaction by.
          const run = startBoxinit(mode, ["--log-format", "json", ...box.args]);
          t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running", "running first");
          t.equal(box.statusJson()?.backoff, false, "status.json: backoff not engaged");
          // `running` says the service was started, not that its shell wrote the pidfile yet.
          await run.waitFor(/^svc-ready$/m);
          const pid = readFileSync(join(box.dir, "svc.pid"), "utf8").trim();
          const engagedAt = Date.now();
          engageCase.engage(box);
          await box.waitForStatus(["stopping", "backedoff"]);
          const ended = await run.result();
          const reactionMs = loggedAt(run.stderr, /^stopping: backoff engaged$/) - engagedAt;
          t.ok(reactionMs < REACTION_MS, `boxinit began to stop ${reactionMs} ms after the write, by its own log (limit ${REACTION_MS} ms${watch === "inotify" ? ": the event was seen, not the 5 s safety re-read" : ""})`);
          if (watch === "inotify") t.notMatch(run.stderr, /cannot watch the backoff file.s directory/, "the inotify watch was used, not the polling fallback");
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

    for (const watch of ["inotify", "poll"] as const) {
      await t.test(`${watch}: unexpected content is warned about once and does not engage; then true does`, async (t) => {
        const box = serviceBox(t, watch);
        if (!isAtimeRecorded(box.dir)) {
          return t.fail(`reads do not update atimes under ${box.dir} (a noatime mount?): this test proves boxinit re-read the file by its atime`);
        }
        const run = startBoxinit(mode, box.args);
        t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running", "running first");
        box.setBackoff("ture\n");
        await run.waitFor(/unexpected content in the backoff file.*content=ture/, "stderr");
        t.equal(box.status(), "running", "still running");
        t.equal(box.statusJson()?.backoff, false, "status.json: not engaged");
        // The same content again, and boxinit provably read it before true comes.
        await replaceBackoffAndAwaitRead(box, "ture");
        box.setBackoff("true\n");
        await box.waitForStatus(["stopping", "backedoff"]);
        t.equal((await run.result()).code, 0);
        t.equal(box.status(), "backedoff");
        const warnings = run.stderr.match(/unexpected content in the backoff file/g) ?? [];
        t.equal(warnings.length, 1, "warned once for the same content, though it was read again");
        if (watch === "inotify") t.notMatch(run.stderr, /cannot watch the backoff file.s directory/, "the inotify watch was used, not the polling fallback");
      });
    }

    for (const watch of ["inotify", "poll"] as const) {
      await t.test(`${watch}: backoff stops a daemonizing (pidfile) service through its failing stop command → backedoff, exit 4`, async (t) => {
        if (!hasPython()) return t.fail("python3 is missing: the daemon fixture serves HTTP with python3 -m http.server");
        const port = await freePort();
        const box = makeBox(t, `grace: 5s
${WATCH_CONFIG[watch]}services:
  web:
    command: [${DAEMON_START}, BOX/web.pid, "${port}"]
    pidfile: BOX/web.pid
    pidfile_timeout: 10s
    stop: [${STOP_PIDFILE}, BOX/web.pid, BOX/stopped, "4"]
`);
        const pidfile = box.killPidfileOnTeardown(join(box.dir, "web.pid"), mode);
        box.setBackoff("false\n");
        const run = startBoxinit(mode, box.args);
        t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running", "running first");
        // Running means boxinit follows the pid the start script wrote: the pidfile is complete.
        const pid = readFileSync(pidfile, "utf8").trim();
        t.equal(String(box.statusJson()?.services.web.pid), pid, "status.json follows the daemon from its pidfile");
        box.setBackoff("true\n");
        await box.waitForStatus(["stopping", "backedoff"]);
        const ended = await run.result();
        t.equal(ended.code, 4, "the stop command's code");
        t.equal(box.status(), "backedoff");
        t.equal(box.statusJson()?.exitCode, 4);
        t.equal(box.statusJson()?.backoff, true);
        t.equal(box.statusJson()?.services.web.state, "stopped");
        t.equal(readFileSync(join(box.dir, "stopped"), "utf8"), `stopped ${pid}\n`, "the stop command ran and saw the daemon go");
        t.match(run.stderr, /stopping: backoff engaged/);
        t.match(run.stderr, /the stop command of service web exited with code 4/);
        if (watch === "inotify") t.notMatch(run.stderr, /cannot watch the backoff file.s directory/, "the inotify watch was used, not the polling fallback");
      });
    }
  });
}

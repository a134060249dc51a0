// planCommandBox and isBackoffEngagedAtStart (src/control/command-box-plan.ts):
// when a tini-style run is self-managing, with which settings, and the one
// read before the spawn. The binary's side: test/integration/tini-self-managing.test.ts.
import t from "tap";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isBackoffEngagedAtStart, planCommandBox } from "../../src/control/command-box-plan.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const none = (): boolean => false;
const dockerExists = (path: string): boolean => path === "/docker";

t.test("no state directory: a plain run (undefined plan)", async (t) => {
  t.same(planCommandBox(undefined, {}, none), { ok: true, plan: undefined });
  t.same(planCommandBox(undefined, { BOXINIT_STATE_DIR: "" }, none), { ok: true, plan: undefined }, "an empty variable is unset");
  t.same(planCommandBox(undefined, { BOXINIT_HEARTBEAT: "5s" }, none), { ok: true, plan: undefined }, "settings alone do not make a box");
});

t.test("where the state directory comes from", async (t) => {
  const fromDefault = planCommandBox(undefined, {}, dockerExists);
  t.equal(fromDefault.ok && fromDefault.plan?.stateDir, "/docker", "/docker existing");
  const looked: string[] = [];
  const fromEnv = planCommandBox(undefined, { BOXINIT_STATE_DIR: "/s" }, (path) => { looked.push(path); return true; });
  t.equal(fromEnv.ok && fromEnv.plan?.stateDir, "/s", "BOXINIT_STATE_DIR, missing or not (it is created, as Mini-VM mode did)");
  t.same(looked, [], "an explicit directory is not looked for");
  const fromFlag = planCommandBox("/flag", { BOXINIT_STATE_DIR: "/env" }, dockerExists);
  t.equal(fromFlag.ok && fromFlag.plan?.stateDir, "/flag", "--state-dir wins over the variable and /docker");
});

t.test("settings: defaults, and the BOXINIT_* variables Mini-VM mode reads", async (t) => {
  t.same(planCommandBox("/s", {}, none), { ok: true, plan: { stateDir: "/s", backoffFile: "/s/backoff", heartbeatMs: 30_000, backoffWatch: "inotify", backoffPollMs: 1000 } });
  const env = {
    BOXINIT_HEARTBEAT: "2s", BOXINIT_BACKOFF_WATCH: "poll", BOXINIT_BACKOFF_POLL_INTERVAL: "250ms",
    BOXINIT_BACKOFF_FILE: "/etc/boxinit-control/backoff", BOXINIT_BACKOFF_ON_ENGAGE: "exit",
  };
  t.same(planCommandBox("/s", env, none), {
    ok: true, plan: { stateDir: "/s", backoffFile: "/etc/boxinit-control/backoff", heartbeatMs: 2000, backoffWatch: "poll", backoffPollMs: 250 },
  });
});

t.test("every problem at once, before anything starts", async (t) => {
  const result = planCommandBox("/proc/x", {
    BOXINIT_STATE_DIR: "relative", BOXINIT_HEARTBEAT: "0s", BOXINIT_BACKOFF_WATCH: "fanotify", BOXINIT_BACKOFF_POLL_INTERVAL: "soon",
    BOXINIT_BACKOFF_FILE: "backoff", BOXINIT_BACKOFF_ON_ENGAGE: "pause",
  }, none);
  t.notOk(result.ok);
  t.same(!result.ok && result.errors, [
    'BOXINIT_STATE_DIR: expected an absolute path, got "relative"',
    '--state-dir: expected a path outside /proc and /sys, got "/proc/x"',
    'BOXINIT_HEARTBEAT: expected a duration above 0, got "0s"',
    'BOXINIT_BACKOFF_WATCH: expected inotify|poll, got "fanotify"',
    'BOXINIT_BACKOFF_POLL_INTERVAL: expected a duration such as 250ms, 9s, 5m, got "soon"',
    'BOXINIT_BACKOFF_FILE: expected an absolute path, got "backoff"',
    'BOXINIT_BACKOFF_ON_ENGAGE: expected exit|idle, got "pause"',
  ]);
  t.notOk(planCommandBox(undefined, { BOXINIT_STATE_DIR: "/a\u0000b" }, none).ok, "a NUL byte in the path");
});

t.test("BOXINIT_BACKOFF_ON_ENGAGE=idle is refused: a tini-style run cannot boot again", async (t) => {
  const result = planCommandBox("/s", { BOXINIT_BACKOFF_ON_ENGAGE: "idle" }, none);
  t.notOk(result.ok);
  t.match(!result.ok && result.errors[0], /^BOXINIT_BACKOFF_ON_ENGAGE: idle works in Mini-VM mode only/);
});

t.test("BOXINIT_PROBE_PORT is refused: a tini-style run answers no probes, and a silent no would be a Pod never ready", async (t) => {
  const result = planCommandBox(undefined, { BOXINIT_PROBE_PORT: "8099" }, none);
  t.notOk(result.ok, "refused with or without a state directory");
  t.match(!result.ok && result.errors[0], /^BOXINIT_PROBE_PORT: PID 1's probe server works in Mini-VM mode only/);
  t.ok(planCommandBox(undefined, { BOXINIT_PROBE_PORT: "" }, none).ok, "an empty variable is unset");
});

t.test("backoff before start follows BOXINIT_BACKOFF_FILE", async (t) => {
  const dir = tempDir(t);
  const control = join(dir, "control");
  mkdirSync(control);
  writeFileSync(join(control, "backoff"), "true\n");
  t.notOk(isBackoffEngagedAtStart(dir, {}), "the state directory's file is absent");
  t.ok(isBackoffEngagedAtStart(dir, { BOXINIT_BACKOFF_FILE: join(control, "backoff") }), "the configured file says true");
});

t.test("backoff before start: only `true` engages; nothing that cannot be read blocks or throws", async (t) => {
  const dir = tempDir(t);
  t.notOk(isBackoffEngagedAtStart(dir, {}), "no file");
  t.notOk(isBackoffEngagedAtStart(join(dir, "missing"), {}), "no directory");
  writeFileSync(join(dir, "backoff"), "true\n");
  t.ok(isBackoffEngagedAtStart(dir, {}), "true");
  writeFileSync(join(dir, "backoff"), "ture\n");
  t.notOk(isBackoffEngagedAtStart(dir, {}), "unexpected content (the watch warns about it later)");
  const fifoDir = join(dir, "fifo");
  mkdirSync(fifoDir);
  execFileSync("mkfifo", [join(fifoDir, "backoff")]);
  t.notOk(isBackoffEngagedAtStart(fifoDir, {}), "a FIFO planted there is not read (it would block PID 1)");
});

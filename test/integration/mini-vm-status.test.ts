// The state directory on the built binary: created when missing, never
// written through a planted symlink, status.json's fields and types, the
// heartbeat, `boxinit health`, and boxinit running as a non-root user.
// Each behaviour as PID 1 and as subreaper.
import t from "tap";
import { spawn } from "node:child_process";
import { chmodSync, lstatSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { descendantsOf, readProcTable } from "../../src/pid1/proc-table.ts";
import { BOXINIT, MODES, boxinitTool, killAllRuns, missingPrerequisite, ownPid, sleep, startBoxinit, type BoxinitRun, type Mode } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const FINAL = ["stopped", "backedoff", "failed"];
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const NOBODY = 65534;

/** Poll status.json until the predicate holds; the document, or a throw naming the last one seen. */
const waitForJson = async (box: Box, predicate: (document: Record<string, any>) => boolean, timeoutMs = 5000): Promise<Record<string, any>> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const document = box.statusJson();
    if (document !== undefined && predicate(document)) return document;
    if (Date.now() > deadline) throw new Error(`status.json never matched; last: ${JSON.stringify(document)}`);
    await sleep(10);
  }
};

/** A one-service box: `svc` records its pid and sleeps. */
const sleeperBox = (t: Parameters<typeof makeBox>[0], extra = ""): Box =>
  makeBox(t, `${extra}services:
  svc:
    command: "echo $$ > BOX/svc.pid; exec sleep 1000"
`);

/** SIGTERM; what boxinit ended with: its exit code and final status word. */
const stopWithTerm = async (run: BoxinitRun, box: Box): Promise<{ code: number | null; status: string | undefined }> => {
  await run.signal("SIGTERM");
  const { code } = await run.result();
  return { code, status: box.status() };
};

for (const mode of MODES) {
  t.test(`${mode}: state directory`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    t.teardown(killAllRuns);

    await t.test("a missing state directory is created (as status-file.ts documents); the service runs and stops cleanly", async (t) => {
      const box = sleeperBox(t);
      rmSync(box.stateDir, { recursive: true });
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running");
      t.ok(statSync(box.stateDir).isDirectory(), "the state directory exists now");
      t.equal(box.statusJson()?.services.svc.state, "running");
      t.same(await stopWithTerm(run, box), { code: 0, status: "stopped" }, "SIGTERM: exit 0, stopped");
      t.match(run.stderr, /created the missing state directory/);
      t.notMatch(run.stderr, /cannot write/);
      t.equal(box.statusJson()?.exitCode, 0);
    });

    await t.test("a state directory created by boxinit is watched for backoff", async (t) => {
      const box = sleeperBox(t);
      rmSync(box.stateDir, { recursive: true });
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running");
      box.setBackoff("true\n");
      // Without a directory boxinit looks for it at the poll interval (1 s); then it watches it.
      await box.waitForStatus(["stopping", "backedoff"], 4000);
      t.equal((await run.result()).code, 0);
      t.equal(box.status(), "backedoff");
    });

    await t.test("symlinks planted at status and status.json are replaced, never written through", async (t) => {
      const box = sleeperBox(t);
      const outsideWord = join(box.dir, "outside-status");
      const outsideJson = join(box.dir, "outside-status.json");
      writeFileSync(outsideWord, "precious\n");
      writeFileSync(outsideJson, "{\"precious\": true}\n");
      symlinkSync(outsideWord, join(box.stateDir, "status"));
      symlinkSync(outsideJson, join(box.stateDir, "status.json"));
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running");
      t.ok(lstatSync(join(box.stateDir, "status")).isFile(), "status is a regular file now");
      t.ok(lstatSync(join(box.stateDir, "status.json")).isFile(), "status.json is a regular file now");
      t.equal(readFileSync(outsideWord, "utf8"), "precious\n", "the file the status link named is unchanged");
      t.equal(readFileSync(outsideJson, "utf8"), "{\"precious\": true}\n", "the file the status.json link named is unchanged");
      t.same(await stopWithTerm(run, box), { code: 0, status: "stopped" }, "SIGTERM: exit 0, stopped");
      t.equal(readFileSync(outsideWord, "utf8"), "precious\n", "still unchanged after the stop");
      t.equal(readFileSync(outsideJson, "utf8"), "{\"precious\": true}\n");
    });

    await t.test("status.json has every documented field with its type", async (t) => {
      const box = makeBox(t, `services:
  svc:
    command: "echo $$ > BOX/svc.pid; exec sleep 1000"
  flaky:
    command: "if [ -f BOX/flaky-ran ]; then exec sleep 1000; fi; touch BOX/flaky-ran; exit 3"
    restart: on-failure
    restart_delay: 100ms
`);
      const version = boxinitTool(["--version"]).stdout.trim().replace(/^boxinit /, "");
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running");
      const document = await waitForJson(box, (doc) => doc.services?.flaky?.restarts === 1 && doc.services.flaky.state === "running");
      t.equal(readFileSync(join(box.stateDir, "status"), "utf8"), "running\n", "status: one word and a newline");
      t.equal(document.schemaVersion, 1);
      t.equal(document.state, "running");
      t.match(document.since, ISO_TIME, "since: ISO time");
      t.match(document.updatedAt, ISO_TIME, "updatedAt: ISO time");
      t.ok(Date.parse(document.since) <= Date.parse(document.updatedAt), "since <= updatedAt");
      t.equal(document.pid, await ownPid(run), "pid: boxinit's own");
      t.equal(document.version, version, "version: the binary's");
      t.equal(document.backoff, false);
      t.notOk("exitCode" in document, "no exitCode while running");
      t.same(document.jobs, {}, "jobs: an object");
      t.same(Object.keys(document.services).sort(), ["flaky", "svc"]);
      const svc = document.services.svc;
      t.equal(svc.state, "running");
      t.equal(svc.pid, Number(readFileSync(join(box.dir, "svc.pid"), "utf8")), "services.svc.pid: the service's pid");
      t.equal(svc.restarts, 0);
      t.equal(svc.lastExit, null, "lastExit: null before any exit");
      t.match(svc.readyAt, ISO_TIME, "readyAt: ISO time");
      const flaky = document.services.flaky;
      t.type(flaky.pid, "number");
      t.equal(flaky.restarts, 1, "restarts: counted");
      t.equal(flaky.lastExit?.code, 3, "lastExit.code: number");
      t.equal(flaky.lastExit?.signal, null, "lastExit.signal: null for an exit");
      t.match(flaky.lastExit?.at, ISO_TIME, "lastExit.at: ISO time");

      t.same(await stopWithTerm(run, box), { code: 0, status: "stopped" }, "SIGTERM: exit 0, stopped");
      const final = box.statusJson()!;
      t.equal(final.state, "stopped");
      t.equal(final.exitCode, 0, "exitCode once it ended");
      t.equal(final.services.svc.state, "stopped");
      t.equal(final.services.svc.pid, null, "no pid once stopped");
      t.equal(final.services.svc.lastExit?.code, null, "lastExit.code: null for a signal");
      t.equal(final.services.svc.lastExit?.signal, "SIGTERM", "lastExit.signal: its name");
    });

    await t.test("the heartbeat advances updatedAt while nothing else changes", async (t) => {
      const box = sleeperBox(t, "heartbeat: 200ms\n");
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running");
      const first = await waitForJson(box, (doc) => doc.state === "running");
      const beats = [first.updatedAt];
      const last = await waitForJson(box, (doc) => {
        if (doc.updatedAt !== beats.at(-1)) beats.push(doc.updatedAt);
        return beats.length >= 3;
      }, 3000);
      t.ok(Date.parse(beats[0]) < Date.parse(beats[1]) && Date.parse(beats[1]) < Date.parse(beats[2]), `updatedAt advanced twice: ${beats.join(", ")}`);
      const { updatedAt: _first, ...firstRest } = first;
      const { updatedAt: _last, ...lastRest } = last;
      t.same(lastRest, firstRest, "everything else is as it was");
      t.same(await stopWithTerm(run, box), { code: 0, status: "stopped" }, "SIGTERM: exit 0, stopped");
    });

    await t.test("boxinit health: 0 while running, 1 before and after", async (t) => {
      const box = sleeperBox(t);
      const before = boxinitTool(["health", "--state-dir", box.stateDir]);
      t.equal(before.code, 1, "no status yet: unhealthy");
      const run = startBoxinit(mode, box.args);
      t.equal((await box.waitForStatus(["running", ...FINAL])).at(-1), "running");
      const during = boxinitTool(["health", "--state-dir", box.stateDir]);
      t.equal(during.code, 0, "running: healthy");
      t.match(during.stdout, /^healthy: running/);
      t.same(await stopWithTerm(run, box), { code: 0, status: "stopped" }, "SIGTERM: exit 0, stopped");
      const after = boxinitTool(["health", "--state-dir", box.stateDir]);
      t.equal(after.code, 1, "stopped: unhealthy");
      t.match(after.stdout, /^unhealthy: state is stopped, not running/);
    });
  });
}

/** A started boxinit that is not a BoxinitRun: its output, its host pid, a bounded end, a teardown kill. */
interface WrappedRun {
  stdout(): string;
  stderr(): string;
  /** boxinit's pid as the host sees it. */
  boxinitPid(): Promise<number>;
  /** The exit code; rejects when boxinit did not exit within timeoutMs. */
  result(timeoutMs?: number): Promise<number | null>;
  /** Wait until stdout matches; throws at the deadline with the output so far. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * boxinit as uid and gid 65534: setpriv drops root and execs boxinit, so as
 * PID 1 (unshare, still root, makes the namespace and mounts /proc first)
 * boxinit itself is the namespace's PID 1, and as subreaper the child itself.
 */
const startAsNobody = (t: { teardown: (fn: () => void) => void }, mode: Mode, args: readonly string[]): WrappedRun => {
  const setpriv = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", BOXINIT, ...args];
  const argv = mode === "pid1" ? ["unshare", "--pid", "--fork", "--mount-proc", ...setpriv] : setpriv;
  const child = spawn(argv[0]!, argv.slice(1), {
    // root's PATH may hold directories nobody cannot enter (pyenv shims under /root).
    env: { ...process.env, NODE_OPTIONS: undefined, PATH: "/usr/local/bin:/usr/bin:/bin" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  t.teardown(() => {
    if (child.pid === undefined || child.exitCode !== null) return;
    for (const pid of [child.pid, ...descendantsOf(child.pid, readProcTable()).map((entry) => entry.pid)]) {
      try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
    }
  });
  const waitUntil = async <T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
      await sleep(10);
    }
  };
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    boxinitPid: () => mode === "subreaper"
      ? Promise.resolve(child.pid!)
      : waitUntil(() => descendantsOf(child.pid!, readProcTable()).find((entry) => entry.ppid === child.pid)?.pid, "unshare did not start boxinit", 5000),
    async result(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`boxinit did not exit within ${timeoutMs} ms\nstderr: ${stderr}`)), timeoutMs);
      });
      try {
        return await Promise.race([ended, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async waitForStdout(pattern, timeoutMs = 10_000) {
      await waitUntil(() => (pattern.test(stdout) ? true : undefined), `stdout never matched ${pattern}`, timeoutMs);
    },
  };
};

for (const mode of MODES) {
  t.test(`${mode}: boxinit as a non-root user runs a service and writes its status`, async (t) => {
    const missing = missingPrerequisite(mode) ?? (process.getuid?.() === 0 ? undefined : "switching to uid 65534 with setpriv needs root");
    if (missing) return t.fail(missing);
    const box = makeBox(t, `services:
  svc:
    command: "id -u > BOX/svc-uid; echo svc-ready; exec sleep 1000"
`);
    // mkdtemp made the box 0700; the service user must reach it, and boxinit must write the state dir.
    chmodSync(box.dir, 0o777);
    chmodSync(box.stateDir, 0o777);
    const run = startAsNobody(t, mode, box.args);

    const seen = await box.waitForStatus(["running", ...FINAL]).catch((error: Error) => {
      throw new Error(`${error.message}\nstderr: ${run.stderr()}`);
    });
    t.equal(seen.at(-1), "running");
    t.equal(statSync(join(box.stateDir, "status")).uid, NOBODY, "status written by uid 65534");
    t.equal(statSync(join(box.stateDir, "status.json")).uid, NOBODY, "status.json written by uid 65534");
    const hostPid = await run.boxinitPid();
    t.equal(box.statusJson()?.pid, mode === "pid1" ? 1 : hostPid, "status.json pid: boxinit's own");
    t.equal(readFileSync(`/proc/${hostPid}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1], String(NOBODY), "boxinit itself runs as uid 65534");
    t.equal(box.statusJson()?.services.svc.state, "running");
    // `running` says the service was started, not that its shell wrote svc-uid yet.
    await run.waitForStdout(/^svc-ready$/m);
    t.equal(readFileSync(join(box.dir, "svc-uid"), "utf8"), `${NOBODY}\n`, "the service runs as boxinit's own user");
    process.kill(hostPid, "SIGTERM");
    t.equal(await run.result(), 0, "SIGTERM: exit 0");
    if (mode === "subreaper") t.match(run.stderr(), /registered as a child subreaper/);
    else t.notMatch(run.stderr(), /subreaper/, "as PID 1 it needs no subreaper");
    t.equal(box.status(), "stopped");
    t.notMatch(run.stderr(), /cannot write|EACCES|EPERM/);
  });
}

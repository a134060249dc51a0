// pid1/spawn.ts, the one fork path: what it asks of the addon (a fake one
// records the ForkSpec), how the reaper's report ends a child, how failures
// become exit codes, and Node's spawn as the fallback (real processes).
import t from "tap";
import { fstatSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";
import { loadNative, NativeError, type ForkSpec } from "../../src/native/addon.ts";
import type { Ending } from "../../src/pid1/exit-code.ts";
import type { ReapListener } from "../../src/pid1/reaper.ts";
import { exitCodeForFailure, spawnProcess, type Forker, type SpawnFailure, type Spawned } from "../../src/pid1/spawn.ts";

/** A fake addon and reaper: forkExec records its spec and returns `result` (a pid, or throws it). */
const fakeForker = (result: number | Error = 4242, makePipe: () => [number, number] = () => { throw new Error("no pipe expected"); }) => {
  const specs: ForkSpec[] = [];
  const listeners = new Set<ReapListener>();
  const forker: Forker = {
    native: {
      forkExec: (spec: ForkSpec) => {
        specs.push(spec);
        if (result instanceof Error) throw result;
        return result;
      },
      makePipe,
      // A socket, as before the polled read end (test/pid1/polled-pipe.test.ts).
      setNonBlocking: () => false,
    },
    reaper: {
      onReaped: (listener: ReapListener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
  };
  const reap = (pid: number, ending: Ending): void => { for (const listener of [...listeners]) listener(pid, ending); };
  return { forker, specs, listeners, reap };
};

const isSpawned = (result: Spawned | SpawnFailure): result is Spawned => "pid" in result;

t.test("a service-like start: a session, stdin /dev/null, its env, user and output fds", async (t) => {
  const { forker, specs } = fakeForker();
  const started = spawnProcess({
    file: "/bin/app", argv: ["app", "-x"], env: { PATH: "/bin", A: "1" }, leader: "session", stdin: "null",
    output: { outFd: 7, errFd: 8 }, cwd: "/srv", identity: { uid: 10, gid: 20, groups: [20, 30] },
  }, forker);
  t.ok(isSpawned(started));
  t.same(specs, [{
    file: "/bin/app", argv: ["app", "-x"], env: ["PATH=/bin", "A=1"], argvFromCmdline: false, newSession: true,
    foregroundFd: undefined, keepFds: undefined, stdinNull: true, outFd: 7, errFd: 8, cwd: "/srv", uid: 10, gid: 20, groups: [20, 30],
  }]);
});

t.test("the main command: a process group, the terminal, kept fds, argv bytes, boxinit's own environment", async (t) => {
  const { forker, specs } = fakeForker();
  spawnProcess({ file: "/bin/sh", argv: ["sh"], leader: "group", stdin: "inherit", foregroundFd: 0, keepFds: 2, isArgvFromCmdline: true }, forker);
  t.match(specs[0], { newSession: false, foregroundFd: 0, keepFds: 2, argvFromCmdline: true, stdinNull: false, outFd: undefined, errFd: undefined });
  t.notOk("env" in specs[0]!, "no env: the addon passes boxinit's own C environment on");
});

t.test("the reaper's report of that pid ends it; other pids do not", async (t) => {
  const { forker, listeners, reap } = fakeForker(4242);
  const started = spawnProcess({ file: "/bin/true", argv: ["true"], leader: "session", stdin: "null" }, forker);
  if (!isSpawned(started)) return t.fail("not started");
  let ending: Ending | undefined;
  void started.ended.then((value) => (ending = value));
  reap(4243, { code: 1, signal: null });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(ending, undefined, "another child's end is not this one's");
  reap(4242, { code: null, signal: 34 });
  t.same(await started.ended, { code: null, signal: 34 }, "the raw ending, real-time signal included");
  t.equal(listeners.size, 0, "the listener is gone once it ended");
});

t.test("failures become the shell's exit codes", async (t) => {
  const { errno } = constants;
  const cases: Array<[NativeError, number, string]> = [
    [new NativeError("exec", errno.ENOENT), 127, "not found"],
    [new NativeError("exec", errno.EACCES), 126, "not executable"],
    [new NativeError("chdir", errno.ENOENT), 126, "a missing cwd is not a missing command"],
    [new NativeError("setuid", errno.EPERM), 126, "user"],
    [new NativeError("exec", errno.EAGAIN), 71, "no process left: boxinit's shortage"],
    [new NativeError("exec", errno.EMFILE), 71, "no fd left"],
  ];
  for (const [error, exitCode, what] of cases) {
    const { forker } = fakeForker(error);
    t.match(spawnProcess({ file: "/x", argv: ["x"], leader: "session", stdin: "null" }, forker), { call: error.syscall, code: error.code, message: error.message, exitCode }, what);
  }
  t.equal(exitCodeForFailure("spawn", undefined), 126, "Node's refusal without an errno");
});

t.test("output 'pipe' with the addon: one pipe for stdout and stderr, the write end closed in boxinit", async (t) => {
  const loaded = loadNative({ BOXINIT_ADDON: fileURLToPath(new URL("../../dist/boxinit.node", import.meta.url)) });
  if (!loaded.native) return t.fail(`the addon did not load: ${loaded.failures.join("; ")}`);
  const real = loaded.native;
  let pipe: [number, number] = [-1, -1];
  const { forker, specs } = fakeForker(4242, () => (pipe = real.makePipe()));
  const started = spawnProcess({ file: "/bin/true", argv: ["true"], leader: "session", stdin: "null", output: "pipe" }, forker);
  if (!isSpawned(started)) return t.fail("not started");
  t.match(specs[0], { outFd: pipe[1], errFd: pipe[1] });
  t.throws(() => fstatSync(pipe[1]), { code: "EBADF" }, "the write end is the child's only");
  t.ok(started.output, "the read end comes back");
  started.output?.destroy();

  const failing = fakeForker(new NativeError("exec", constants.errno.ENOENT), () => (pipe = real.makePipe()));
  t.match(spawnProcess({ file: "/x", argv: ["x"], leader: "session", stdin: "null", output: "pipe" }, failing.forker), { exitCode: 127 });
  t.throws(() => fstatSync(pipe[0]), { code: "EBADF" }, "not started: the read end is closed too");
  t.throws(() => fstatSync(pipe[1]), { code: "EBADF" });

  const short = fakeForker(4242, () => { throw new NativeError("pipe2", constants.errno.EMFILE); });
  t.match(spawnProcess({ file: "/x", argv: ["x"], leader: "session", stdin: "null", output: "pipe" }, short.forker), { call: "pipe2", code: "EMFILE", exitCode: 71 });
  t.equal(short.specs.length, 0, "nothing forked without its pipe");
});

t.test("without the addon: Node's spawn, a session of its own, stderr on the pipe, its ending", async (t) => {
  const script = 'echo out; echo err >&2; test "$(ps -o sid= -p $$ | tr -d " ")" = "$$" && exit 3';
  const started = spawnProcess({ file: "/bin/sh", argv: ["sh", "-c", script], env: { PATH: process.env.PATH ?? "/bin" }, leader: "session", stdin: "null", output: "pipe" }, undefined);
  if (!isSpawned(started) || !started.output) return t.fail("not started");
  let text = "";
  started.output.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const closed = new Promise<void>((resolve) => started.output!.once("close", () => resolve()));
  t.same(await started.ended, { code: 3, signal: null }, "exit 3: it leads its session");
  await closed;
  t.equal(text, "err\n", "stderr only: stdout goes to /dev/null without the addon");

  const killed = spawnProcess({ file: "/bin/sh", argv: ["sh", "-c", "kill -TERM $$"], leader: "session", stdin: "null" }, undefined);
  if (!isSpawned(killed)) return t.fail("not started");
  t.same(await killed.ended, { code: null, signal: constants.signals.SIGTERM });
});

t.test("without the addon: a file that cannot be run", async (t) => {
  const started = spawnProcess({ file: "/nonexistent/x", argv: ["x"], leader: "session", stdin: "null" }, undefined);
  t.match(started, { call: "spawn", code: undefined, message: "the system refused to start it", exitCode: 126 });
});

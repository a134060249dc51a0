// supervisor/main-command.ts: the main command as the one fork path is asked
// to start it (a fake addon records the spec), the terminal handed over only
// when boxinit holds it, and the exit code and log line of each failure.
import t from "tap";
import { constants } from "node:os";
import { NativeError, type ForkSpec, type Native } from "../../src/native/addon.ts";
import type { Reaper, ReapListener } from "../../src/pid1/reaper.ts";
import { Logger, type Level } from "../../src/log/logger.ts";
import { startMainCommand } from "../../src/supervisor/main-command.ts";

interface Logged { level: Level; event: string; message: string; fields: Record<string, unknown> }

const capture = () => {
  const lines: Logged[] = [];
  return { log: new Logger({ write: (level, event, message, fields) => lines.push({ level, event, message, fields }) }, "debug"), lines };
};

/** A fake addon: stdin a terminal or not, boxinit's group in its foreground or not; forkExec returns 300 or throws. */
const fakeAddon = (options: { isTty?: boolean; isForeground?: boolean; error?: Error } = {}) => {
  const specs: ForkSpec[] = [];
  const native = {
    isatty: () => options.isTty ?? false,
    getForeground: () => (options.isForeground ? 77 : 78),
    getpgrp: () => 77,
    makePipe: () => { throw new Error("no pipe expected"); },
    forkExec: (spec: ForkSpec) => {
      specs.push(spec);
      if (options.error) throw options.error;
      return 300;
    },
  } as unknown as Native;
  const listeners = new Set<ReapListener>();
  const reaper = { onReaped: (listener: ReapListener) => (listeners.add(listener), () => listeners.delete(listener)) } as unknown as Reaper;
  return { native, reaper, specs, listeners };
};

t.test("a process group of its own with boxinit's argv bytes and environment; its end from the reaper", async (t) => {
  const { native, reaper, specs, listeners } = fakeAddon();
  const { log, lines } = capture();
  const started = startMainCommand(["sh", "-c", "exit 3"], 0, native, reaper, log);
  t.match(started, { pid: 300, pgid: 300, ownsTerminal: false });
  t.match(specs[0], { file: /\/sh$/, argv: ["sh", "-c", "exit 3"], newSession: false, argvFromCmdline: true, stdinNull: false, keepFds: 0, foregroundFd: undefined });
  t.notOk("env" in specs[0]!, "boxinit's own environment");
  t.match(lines.find((line) => line.event === "spawned"), { fields: { pid: 300, command: ["sh", "-c", "exit 3"], terminal: false } });
  for (const listener of listeners) listener(300, { code: 3, signal: null });
  t.same(await (started as { ended: Promise<unknown> }).ended, { code: 3, signal: null });
});

t.test("the terminal's foreground only when boxinit's group holds it", async (t) => {
  const holding = fakeAddon({ isTty: true, isForeground: true });
  t.match(startMainCommand(["sh"], 0, holding.native, holding.reaper, capture().log), { ownsTerminal: true });
  t.equal(holding.specs[0]?.foregroundFd, 0);
  const background = fakeAddon({ isTty: true, isForeground: false });
  t.match(startMainCommand(["sh"], 0, background.native, background.reaper, capture().log), { ownsTerminal: false });
  t.equal(background.specs[0]?.foregroundFd, undefined, "started with & from a shell: the terminal stays the shell's");
});

t.test("failures: the shell's exit codes, and a shortage said to be boxinit's", async (t) => {
  const { errno } = constants;
  const notFound = fakeAddon();
  const { log, lines } = capture();
  t.same(startMainCommand(["no-such-command-xyz"], 0, notFound.native, notFound.reaper, log), { exitCode: 127 });
  t.equal(notFound.specs.length, 0, "looked up before anything forks");
  t.match(lines.at(-1), { event: "spawn-failed", message: 'cannot run "no-such-command-xyz": not found in PATH' });
  const cases: Array<[number, number, RegExp]> = [
    [errno.ENOENT, 127, /: ENOENT$/],
    [errno.EACCES, 126, /: EACCES$/],
    [errno.EAGAIN, 71, /the system refused a new process .*; not the command's fault$/],
  ];
  for (const [code, exitCode, message] of cases) {
    const failing = fakeAddon({ error: new NativeError("exec", code) });
    const logged = capture();
    t.same(startMainCommand(["sh"], 0, failing.native, failing.reaper, logged.log), { exitCode });
    t.match(logged.lines.at(-1), { event: "spawn-failed", message, fields: { exitCode } });
  }
});

t.test("--preserve-fds beyond the inherited fds is a usage error, before anything forks", async (t) => {
  const { native, reaper, specs } = fakeAddon();
  const { log, lines } = capture();
  // This test process has its own epoll/eventfd fds low: 100 inherited fds cannot all be there.
  t.same(startMainCommand(["sh"], 100, native, reaper, log), { exitCode: 2 });
  t.equal(specs.length, 0);
  t.match(lines.at(-1), { event: "usage", message: /^--preserve-fds 100: fd \d+ is boxinit's own/ });
});

t.test("without the addon: Node's spawn, in a session of its own", async (t) => {
  const { log } = capture();
  const started = startMainCommand(["sh", "-c", 'test "$(ps -o sid= -p $$ | tr -d " ")" = "$$"'], 0, undefined, {} as Reaper, log);
  if (!("pid" in started)) return t.fail("not started");
  t.equal(started.pgid, started.pid);
  t.equal(started.ownsTerminal, false);
  t.same(await started.ended, { code: 0, signal: null });
});

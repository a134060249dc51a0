// pid1/start-process.ts: a configured process's environment, its command
// resolved (relative to its cwd), what it asks of the one fork path (a fake
// addon records the spec), and which failures are the command's and which
// boxinit's shortage.
import t from "tap";
import { fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { NativeError, type ForkSpec } from "../../src/native/addon.ts";
import type { ReapListener } from "../../src/pid1/reaper.ts";
import type { Forker } from "../../src/pid1/spawn.ts";
import { environmentFor, startProcessWith } from "../../src/pid1/start-process.ts";

t.test("a service's environment: the container's, its user's identity, then its own", async (t) => {
  const base = { PATH: "/bin", HOME: "/root", USER: "root", KEEP: "1", UNSET: undefined };
  const user = { name: "app", uid: 1000, gid: 1000, groups: [1000], home: "/home/app" };
  t.same(environmentFor({ env: { HOME: "/override", EXTRA: "x" }, user }, base), {
    PATH: "/bin",
    HOME: "/override",
    USER: "app",
    LOGNAME: "app",
    KEEP: "1",
    EXTRA: "x",
  });
  t.same(environmentFor({}, base), { PATH: "/bin", HOME: "/root", USER: "root", KEEP: "1" }, "no user: unchanged");
});

/** A fake addon: forkExec records the spec and returns 4242, or throws `error`. */
const fakeForker = (error?: Error) => {
  const specs: ForkSpec[] = [];
  const forker: Forker = {
    native: {
      forkExec: (spec: ForkSpec) => {
        specs.push(spec);
        if (error) throw error;
        return 4242;
      },
      makePipe: () => { throw new Error("no pipe expected"); },
      setNonBlocking: () => { throw new Error("no pipe expected"); },
    },
    reaper: { onReaped: (_listener: ReapListener) => () => true },
  };
  return { forker, specs };
};

const dir = mkdtempSync(join(tmpdir(), "boxinit-start-process-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
writeFileSync(join(dir, "plain.txt"), "", { mode: 0o644 });

t.test("a session of its own, stdin /dev/null, its cwd, the whole environment; a ./name is relative to its cwd", async (t) => {
  const { forker, specs } = fakeForker();
  const started = startProcessWith({ argv: ["./run.sh", "a"], cwd: dir, env: { ONE: "1" } }, forker);
  t.match(started, { pid: 4242 });
  t.match(specs[0], { file: join(dir, "run.sh"), argv: ["./run.sh", "a"], newSession: true, stdinNull: true, cwd: dir });
  t.ok(specs[0]?.env?.includes("ONE=1"), "its own variable");
  t.ok(specs[0]?.env?.some((entry) => entry.startsWith("PATH=")), "boxinit's own under it");
});

t.test("not found and not executable are the command's (127, 126), before anything forks", async (t) => {
  const { forker, specs } = fakeForker();
  t.same(startProcessWith({ argv: ["./missing"], cwd: dir }, forker), { problem: '"./missing": no such file', exitCode: 127, kind: "command" });
  t.match(startProcessWith({ argv: [join(dir, "plain.txt")] }, forker), { exitCode: 126, kind: "command" });
  t.equal(specs.length, 0);
});

t.test("a failure in the child is the command's; a shortage is boxinit's (resources, 71)", async (t) => {
  const { errno } = constants;
  const file = join(dir, "run.sh");
  t.same(startProcessWith({ argv: [file] }, fakeForker(new NativeError("chdir", errno.ENOENT)).forker),
    { problem: `${JSON.stringify(file)}: chdir: ENOENT`, exitCode: 126, kind: "command" });
  t.same(startProcessWith({ argv: [file] }, fakeForker(new NativeError("exec", errno.ENOENT)).forker),
    { problem: `${JSON.stringify(file)}: exec: ENOENT`, exitCode: 127, kind: "command" });
  t.match(startProcessWith({ argv: [file] }, fakeForker(new NativeError("exec", errno.EAGAIN)).forker),
    { problem: /^".*run\.sh": the system refused a new process \(EAGAIN/, exitCode: 71, kind: "resources" });
});

t.test("output fds are the child's: closed in boxinit after the start, whether or not it started", async (t) => {
  for (const [argv, what] of [[[join(dir, "run.sh")], "started"], [["./missing"], "not started"]] as const) {
    const outFd = openSync("/dev/null", "w");
    const errFd = openSync("/dev/null", "w");
    startProcessWith({ argv, cwd: dir, output: { outFd, errFd } }, fakeForker().forker);
    t.throws(() => fstatSync(outFd), { code: "EBADF" }, `${what}: stdout's fd closed`);
    t.throws(() => fstatSync(errFd), { code: "EBADF" }, `${what}: stderr's fd closed`);
  }
});

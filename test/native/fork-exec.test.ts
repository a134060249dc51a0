// The addon's forkExec (native/fork-exec.c): cwd, environment, output pipes,
// session or process group, inherited fds, and the step named when the child
// fails before exec. The user switch needs root: integration/fork-exec-user.test.ts.
import t from "tap";
import { join } from "node:path";
import { readProcEntry } from "../../src/pid1/proc-table.ts";
import { loadAddon, readPipe, reapWithin } from "../helpers/addon.ts";

t.test("stdin is /dev/null", async (t) => {
  const native = loadAddon();
  const [readFd, writeFd] = native.makePipe();
  const pid = native.forkExec({ newSession: true, stdinNull: true, file: "/bin/sh", argv: ["/bin/sh", "-c", "readlink /proc/self/fd/0"], env: ["PATH=/usr/bin:/bin"], outFd: writeFd });
  (await import("node:fs")).closeSync(writeFd);
  t.equal((await readPipe(readFd)).trim(), "/dev/null");
  t.equal(await reapWithin(native, pid), 0);
});

t.test("a failure before exec names its step", async (t) => {
  const native = loadAddon();
  t.throws(() => native.forkExec({ newSession: true, stdinNull: true, file: "/bin/true", argv: ["true"], env: [], cwd: "/nonexistent-dir" }), { message: "chdir: ENOENT" });
  t.throws(() => native.forkExec({ newSession: true, stdinNull: true, file: "/nonexistent-binary", argv: ["x"], env: [] }), { message: "exec: ENOENT" });
  // Not a directory as cwd: ENOTDIR from chdir, for any user (/dev/null is reachable by all).
  t.throws(() => native.forkExec({ newSession: true, stdinNull: true, file: "/bin/true", argv: ["true"], env: [], cwd: "/dev/null" }), { message: "chdir: ENOTDIR" });
});

t.test("a process group of its own in our session, stdin and env inherited, kept fds", async (t) => {
  const native = loadAddon();
  const { closeSync } = await import("node:fs");
  const [readFd, writeFd] = native.makePipe();
  // A child keeps fds 3..3+keepFds-1: fd 3 is whatever this test process has there.
  const script = 'echo "$(ps -o pgid= -p $$ | tr -d " ") $(ps -o sid= -p $$ | tr -d " ") $$ ${FORK_EXEC_MARK:-unset} $(test -e /proc/self/fd/3 && echo kept || echo closed)"';
  process.env.FORK_EXEC_MARK = "from-environ";
  let pid: number;
  try {
    pid = native.forkExec({ newSession: false, keepFds: 1, file: "/bin/sh", argv: ["/bin/sh", "-c", script], outFd: writeFd, errFd: writeFd });
  } finally {
    delete process.env.FORK_EXEC_MARK;
  }
  closeSync(writeFd);
  const [pgid, sid, own, mark, fd3] = (await readPipe(readFd)).trim().split(" ");
  t.equal(await reapWithin(native, pid), 0);
  t.equal(pgid, own, "it leads a process group of its own");
  t.equal(sid, String(readProcEntry("self")?.session), "in this process's session");
  t.equal(mark, "from-environ", "env omitted: boxinit's own (C) environment");
  t.equal(fd3, "kept", "fd 3 inherited with keepFds 1");
});

t.test("a text file without #! runs under /bin/sh; an empty argv is refused", async (t) => {
  const native = loadAddon();
  const { mkdtempSync, writeFileSync, rmSync, closeSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "fork-exec-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, "plain");
  writeFileSync(script, "echo ran-by-sh $1\n", { mode: 0o755 });
  const [readFd, writeFd] = native.makePipe();
  const pid = native.forkExec({ newSession: true, stdinNull: true, file: script, argv: [script, "arg1"], env: [], outFd: writeFd });
  closeSync(writeFd);
  t.equal((await readPipe(readFd)).trim(), "ran-by-sh arg1");
  t.equal(await reapWithin(native, pid), 0);
  t.throws(() => native.forkExec({ newSession: true, file: "/bin/true", argv: [] }), TypeError, "an empty argv is refused");
});

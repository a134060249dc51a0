// The addon's forkExec (native/fork-exec.c): identity, cwd, environment,
// output pipes, session or process group, inherited fds, and the step named
// when the child fails before exec. Needs root for the
// user switch (fails, never skips, without it).
import t from "tap";
import { join } from "node:path";
import { loadNative, type Native } from "../../src/native/addon.ts";
import { readProcEntry } from "../../src/pid1/proc-table.ts";
import { ROOT } from "../helpers/boxinit.ts";

const load = (): Native => {
  const { native, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });
  if (!native) throw new Error(`addon did not load: ${failures.join("; ")}`);
  return native;
};

// The child is the addon's, not libuv's: reap it by pid, polling with a deadline.
const waitFor = async (native: Native, pid: number): Promise<number> => {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const status = native.reap(pid);
    if (status !== undefined) return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`pid ${pid} did not exit`);
};

// Everything the child wrote to a pipe, until EOF.
const readAll = async (fd: number): Promise<string> => {
  const net = await import("node:net");
  const socket = new net.Socket({ fd, readable: true, writable: false });
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (text += chunk));
  await new Promise((resolve) => socket.once("end", resolve));
  return text;
};

t.test("a service runs as its user, in its cwd, with its env, in a session of its own", async (t) => {
  if (process.getuid?.() !== 0) return t.fail("the user switch needs root: run as root (sudo make test)");
  const native = load();
  const [readFd, writeFd] = native.makePipe();
  const pid = native.forkExec({
    newSession: true,
    stdinNull: true,
    file: "/bin/sh",
    argv: ["/bin/sh", "-c", 'echo "$(id -u) $(id -g) $(id -G) $(pwd) $GREETING $(ps -o sid= -p $$ | tr -d " ") $$"'],
    env: ["GREETING=hello", "PATH=/usr/bin:/bin"],
    cwd: "/tmp",
    uid: 65534,
    gid: 65534,
    groups: [65534, 4242],
    outFd: writeFd,
    errFd: writeFd,
  });
  const { closeSync } = await import("node:fs");
  closeSync(writeFd);
  const output = (await readAll(readFd)).trim().split(" ");
  t.equal(await waitFor(native, pid), 0, "exit status 0");
  t.same(output.slice(0, 3), ["65534", "65534", "65534"], "uid and gid");
  t.ok(output.includes("4242"), "the supplementary group");
  t.ok(output.includes("/tmp"), "cwd");
  t.ok(output.includes("hello"), "env");
  t.equal(output.at(-2), output.at(-1), "session id = its own pid: a session leader");
});

t.test("stdin is /dev/null", async (t) => {
  const native = load();
  const [readFd, writeFd] = native.makePipe();
  const pid = native.forkExec({ newSession: true, stdinNull: true, file: "/bin/sh", argv: ["/bin/sh", "-c", "readlink /proc/self/fd/0"], env: ["PATH=/usr/bin:/bin"], outFd: writeFd });
  (await import("node:fs")).closeSync(writeFd);
  t.equal((await readAll(readFd)).trim(), "/dev/null");
  t.equal(await waitFor(native, pid), 0);
});

t.test("a failure before exec names its step", async (t) => {
  const native = load();
  t.throws(() => native.forkExec({ newSession: true, stdinNull: true, file: "/bin/true", argv: ["true"], env: [], cwd: "/nonexistent-dir" }), { message: "chdir: ENOENT" });
  t.throws(() => native.forkExec({ newSession: true, stdinNull: true, file: "/nonexistent-binary", argv: ["x"], env: [] }), { message: "exec: ENOENT" });
  // Not a directory as cwd: ENOTDIR from chdir, for any user (/dev/null is reachable by all).
  t.throws(() => native.forkExec({ newSession: true, stdinNull: true, file: "/bin/true", argv: ["true"], env: [], cwd: "/dev/null" }), { message: "chdir: ENOTDIR" });
});

t.test("a process group of its own in our session, stdin and env inherited, kept fds", async (t) => {
  const native = load();
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
  const [pgid, sid, own, mark, fd3] = (await readAll(readFd)).trim().split(" ");
  t.equal(await waitFor(native, pid), 0);
  t.equal(pgid, own, "it leads a process group of its own");
  t.equal(sid, String(readProcEntry("self")?.session), "in this process's session");
  t.equal(mark, "from-environ", "env omitted: boxinit's own (C) environment");
  t.equal(fd3, "kept", "fd 3 inherited with keepFds 1");
});

t.test("a text file without #! runs under /bin/sh; an empty argv is refused", async (t) => {
  const native = load();
  const { mkdtempSync, writeFileSync, rmSync, closeSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "fork-exec-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, "plain");
  writeFileSync(script, "echo ran-by-sh $1\n", { mode: 0o755 });
  const [readFd, writeFd] = native.makePipe();
  const pid = native.forkExec({ newSession: true, stdinNull: true, file: script, argv: [script, "arg1"], env: [], outFd: writeFd });
  closeSync(writeFd);
  t.equal((await readAll(readFd)).trim(), "ran-by-sh arg1");
  t.equal(await waitFor(native, pid), 0);
  t.throws(() => native.forkExec({ newSession: true, file: "/bin/true", argv: [] }), TypeError, "an empty argv is refused");
});

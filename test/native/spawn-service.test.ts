// The addon's spawnService: identity, cwd, environment, output pipes, session,
// and the step named when the child fails before exec. Needs root for the
// user switch (fails, never skips, without it).
import t from "tap";
import { join } from "node:path";
import { loadNative, type Native } from "../../src/native/addon.ts";
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
  const pid = native.spawnService({
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
  const pid = native.spawnService({ file: "/bin/sh", argv: ["/bin/sh", "-c", "readlink /proc/self/fd/0"], env: ["PATH=/usr/bin:/bin"], outFd: writeFd });
  (await import("node:fs")).closeSync(writeFd);
  t.equal((await readAll(readFd)).trim(), "/dev/null");
  t.equal(await waitFor(native, pid), 0);
});

t.test("a failure before exec names its step", async (t) => {
  const native = load();
  t.throws(() => native.spawnService({ file: "/bin/true", argv: ["true"], env: [], cwd: "/nonexistent-dir" }), { message: "chdir: ENOENT" });
  t.throws(() => native.spawnService({ file: "/nonexistent-binary", argv: ["x"], env: [] }), { message: "exec: ENOENT" });
  // Not a directory as cwd: ENOTDIR from chdir, for any user (/dev/null is reachable by all).
  t.throws(() => native.spawnService({ file: "/bin/true", argv: ["true"], env: [], cwd: "/dev/null" }), { message: "chdir: ENOTDIR" });
});

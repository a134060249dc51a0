// The addon's forkExec (native/fork-exec.c) switching user: uid, gid and
// supplementary groups, with its cwd, environment and session. Needs root
// (fails, never skips, without it); the rest of forkExec: native/fork-exec.test.ts.
import t from "tap";
import { loadAddon, readPipe, reapWithin } from "../helpers/addon.ts";

t.test("a service runs as its user, in its cwd, with its env, in a session of its own", async (t) => {
  if (process.getuid?.() !== 0) return t.fail("the user switch needs root: run as root (sudo make test-integration)");
  const native = loadAddon();
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
  const output = (await readPipe(readFd)).trim().split(" ");
  t.equal(await reapWithin(native, pid), 0, "exit status 0");
  t.same(output.slice(0, 3), ["65534", "65534", "65534"], "uid and gid");
  t.ok(output.includes("4242"), "the supplementary group");
  t.ok(output.includes("/tmp"), "cwd");
  t.ok(output.includes("hello"), "env");
  t.equal(output.at(-2), output.at(-1), "session id = its own pid: a session leader");
});

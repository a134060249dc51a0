// What must not reach or break PID 1: an app's NODE_OPTIONS, SIGUSR1 opening
// Node's inspector, and a missing addon (boxinit runs on and says so).
import t from "tap";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOXINIT, MODES, fixture, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";

t.teardown(killAllRuns);

// Is anything listening on TCP port 9229 (Node's inspector) on this host?
const inspectorListening = (): boolean => {
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try { text = readFileSync(table, "utf8"); } catch { continue; }
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local?.endsWith(":2405") && state === "0A") return true;
    }
  }
  return false;
};

for (const mode of MODES) {
  t.test(`${mode}: hardening`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("NODE_OPTIONS meant for the app does not reach boxinit but does reach the app", async (t) => {
      const result = await runBoxinit(mode, ["-q", "--", "/bin/sh", "-c", 'echo "app sees: $NODE_OPTIONS"; exit 3'], {
        env: { NODE_OPTIONS: "--require /nonexistent/preload.js" },
      });
      t.equal(result.code, 3);
      // (tap's process tracking appends its own --import to NODE_OPTIONS of every spawn)
      t.match(result.stdout, /app sees: .*--require"? "?\/nonexistent\/preload\.js/);
      t.notMatch(result.stderr, /Cannot find module|preload/);
    });

    await t.test("a closed stderr: boxinit's own SIGPIPE never reaches the command", async (t) => {
      const { spawn } = await import("node:child_process");
      const argv = ["--", "/bin/sh", "-c", "sleep 0.5; echo still-running; exit 3"];
      const child = mode === "pid1"
        ? spawn("unshare", ["--pid", "--fork", "--mount-proc", BOXINIT, ...argv], { stdio: ["ignore", "pipe", "pipe"] })
        : spawn(BOXINIT, argv, { stdio: ["ignore", "pipe", "pipe"] });
      child.stderr.destroy(); // boxinit's log writes now fail with EPIPE
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
      const code = await new Promise<number | null>((resolve) => child.on("close", (exitCode) => resolve(exitCode)));
      t.equal(code, 3, "the command's own code, not 141");
      t.equal(stdout, "still-running\n");
    });

    await t.test("JSON logging to a full disk (/dev/full) costs log lines, not the exit code", async (t) => {
      const { spawnSync } = await import("node:child_process");
      const argv = ["--log-format", "json", "--", "/bin/sh", "-c", "exit 3"];
      const command = mode === "pid1" ? `unshare --pid --fork --mount-proc ${BOXINIT} ${argv.map((a) => `'${a}'`).join(" ")}` : `${BOXINIT} ${argv.map((a) => `'${a}'`).join(" ")}`;
      const result = spawnSync("/bin/sh", ["-c", `${command} 2>/dev/full`], { encoding: "utf8" });
      t.equal(result.status, 3);
    });

    await t.test("argv and environment bytes reach the command unchanged, UTF-8 or not", async (t) => {
      const { spawnSync } = await import("node:child_process");
      const prefix = mode === "pid1" ? "unshare --pid --fork --mount-proc " : "";
      // Through a shell: Node's own spawn would force these strings to UTF-8.
      const script = `X=$(printf '\\377\\376') ${prefix}${BOXINIT} -q -- /bin/sh -c 'printf "%s|%s" "$1" "$X" | od -An -tx1' sh "$(printf 'caf\\351')"`;
      const result = spawnSync("/bin/bash", ["-c", script], { encoding: "utf8" });
      t.equal(result.status, 0, result.stderr);
      t.equal(result.stdout.trim().replace(/\s+/g, " "), "63 61 66 e9 7c ff fe");
    });

    await t.test("inherited fds beyond stdio: only with --preserve-fds", async (t) => {
      const { spawnSync } = await import("node:child_process");
      const dir = mkdtempSync(join(tmpdir(), "boxinit-fds-"));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const prefix = mode === "pid1" ? "unshare --pid --fork --mount-proc " : "";
      const run = (flags: string, file: string) =>
        spawnSync("/bin/bash", ["-c", `${prefix}${BOXINIT} -q ${flags} -- /bin/sh -c 'echo via-fd3 >&3' 3>${join(dir, file)}`], { encoding: "utf8" });
      const without = run("", "a");
      t.not(without.status, 0, "fd 3 is not inherited by default");
      const withFlag = run("--preserve-fds 1", "b");
      t.equal(withFlag.status, 0, withFlag.stderr);
      t.equal(readFileSync(join(dir, "b"), "utf8"), "via-fd3\n");
      // More than were inherited: the gap holds boxinit's own fds (epoll,
      // io_uring, eventfd); handing them to the command could crash PID 1.
      const tooMany = run("--preserve-fds 12", "c");
      t.equal(tooMany.status, 2);
      t.match(tooMany.stderr, /--preserve-fds 12: fd 4 is boxinit's own, only fds 3\.\.3 were inherited \(pass --preserve-fds 1/);
      t.equal(readFileSync(join(dir, "c"), "utf8"), "", "the command never ran");
    });

    await t.test("SIGUSR1 is forwarded and never opens the inspector", async (t) => {
      t.notOk(inspectorListening(), "nothing listens on 9229 before the test");
      const run = startBoxinit(mode, ["-q", "--", fixture("signal-echo")]);
      await run.waitFor(/^ready$/m);
      await run.signal("SIGUSR1");
      await run.waitFor(/signal USR1/);
      t.notOk(inspectorListening(), "nothing listens on 9229 after SIGUSR1");
      await run.signal("SIGTERM");
      t.equal((await run.result()).code, 0);
      t.notMatch(run.stderr, /Debugger listening/);
    });

    await t.test("without a loadable addon the command still runs and boxinit warns", async (t) => {
      const result = await runBoxinit(mode, ["--", "/bin/sh", "-c", "exit 9"], { env: { BOXINIT_ADDON: "/nonexistent/boxinit.node" } });
      t.equal(result.code, 9);
      t.match(result.stderr, /warning: addon: native addon could not be loaded: orphaned processes will NOT be reaped/);
      t.match(result.stderr, /\/nonexistent\/boxinit.node: not found/);
    });

    await t.test("the copy beside the executable is used, and the embedded copy when there is none", async (t) => {
      const beside = await runBoxinit(mode, ["-v", "--", "/bin/true"]);
      t.match(beside.stderr, new RegExp(`addon: native addon loaded from=${join(BOXINIT, "..", "boxinit.node").replace(/[.]/g, "[.]")}`));
      const dir = mkdtempSync(join(tmpdir(), "boxinit-alone-"));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      copyFileSync(BOXINIT, join(dir, "boxinit"));
      // Run the lone copy directly (no unshare needed to see the loader's choice).
      const { spawnSync } = await import("node:child_process");
      const alone = spawnSync(join(dir, "boxinit"), ["-v", "--", fixture("orphans"), "50"], { encoding: "utf8" });
      t.equal(alone.status, 0, alone.stderr);
      t.match(alone.stderr, /native addon loaded from="embedded copy"/);
      t.match(alone.stdout, /zombies=0/, "the embedded addon reaps");
    });
  });
}

// supervisor/check-process.ts: a warm-up check is started like a service, with
// its output on one pipe; through the addon (a fake forkExec over the real
// makePipe) or Node's spawn (a real process).
import t from "tap";
import { fileURLToPath } from "node:url";
import { loadNative, type ForkSpec } from "../../src/native/addon.ts";
import type { ReapListener } from "../../src/pid1/reaper.ts";
import { checkStarter } from "../../src/supervisor/check-process.ts";

t.test("through the addon: a session, stdin /dev/null, stdout and stderr on one pipe, the env given", async (t) => {
  const loaded = loadNative({ BOXINIT_ADDON: fileURLToPath(new URL("../../dist/boxinit.node", import.meta.url)) });
  if (!loaded.native) return t.fail(`the addon did not load: ${loaded.failures.join("; ")}`);
  const real = loaded.native;
  const specs: ForkSpec[] = [];
  const start = checkStarter({
    native: { forkExec: (spec: ForkSpec) => (specs.push(spec), 4242), makePipe: () => real.makePipe(), setNonBlocking: (fd: number) => real.setNonBlocking(fd) },
    reaper: { onReaped: (_listener: ReapListener) => () => true },
  });
  const started = start(["sh", "-c", "true"], { env: { PATH: "/usr/bin:/bin", CHECK: "yes", UNSET: undefined }, cwd: "/" });
  if ("problem" in started) return t.fail(started.problem);
  t.equal(started.pid, 4242);
  t.match(specs[0], { file: /\/sh$/, newSession: true, stdinNull: true, cwd: "/" });
  t.equal(specs[0]?.outFd, specs[0]?.errFd, "one pipe for both");
  t.ok(specs[0]?.env?.includes("CHECK=yes"));
  started.output.destroy();
  t.same(start(["no-such-check-xyz"], { env: { PATH: "/nonexistent" } }), { problem: 'cannot run "no-such-check-xyz": not found in PATH' });
});

t.test("through Node's spawn: stderr on the pipe, its ending", async (t) => {
  const started = checkStarter(undefined)(["sh", "-c", "echo out; echo err >&2; exit 4"], { env: { PATH: process.env.PATH } });
  if ("problem" in started) return t.fail(started.problem);
  let text = "";
  started.output.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const closed = new Promise<void>((resolve) => started.output.once("close", () => resolve()));
  t.same(await started.ended, { code: 4, signal: null });
  await closed;
  t.equal(text, "err\n");
});

// Which mode `boxinit [-- CMD]` chooses, and that it says why (whyMiniVm in
// src/cli/init.ts), on the real binary as PID 1 and as subreaper: with
// nothing asking for it, the plain tini-style run (no config read, no state
// directory, no "Mini-VM mode" line); with only a state directory (--state-dir,
// BOXINIT_STATE_DIR) the tini-style run too, self-managing (issue 14: a
// Mini-VM with only a command was the same box; its behaviour is
// test/integration/tini-self-managing.test.ts); otherwise Mini-VM mode, named
// by the first reason: no command, --config, a BOXINIT_* variable, or
// /etc/boxinit/boxinit.yaml existing (an image that ships it: shown with an
// overlay on /etc in a mount namespace of the test's own, the host's /etc
// untouched). The reasons that would leave the state directory at its
// default, /docker, on this host (BOXINIT_INIT_DIR, the script directories
// existing) and the order of all of them: test/cli/mode-choice.test.ts.
import t from "tap";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

// The variables that choose Mini-VM mode are cleared, so the runner's own cannot decide.
const CLEAN_ENV = { BOXINIT_CONFIG: undefined, BOXINIT_STATE_DIR: undefined, BOXINIT_INIT_DIR: undefined, BOXINIT_FINISH_DIR: undefined };
const COMMAND = ["--", "/bin/sh", "-c", "echo the-command-ran"];

/** Mount an overlay on /etc whose upper layer is `upper`, then exec the rest; in a mount namespace of its own. */
const overlayEtc = (mode: Mode, upper: string, work: string): string[] => {
  const script = `mount -t overlay overlay -o lowerdir=/etc,upperdir=${upper},workdir=${work} /etc && exec "$@"`;
  // As PID 1, unshare --mount-proc already made a private mount namespace; as subreaper, make one.
  return mode === "pid1" ? ["/bin/sh", "-c", script, "sh"] : ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"];
};

for (const mode of MODES) {
  t.test(`${mode}: the mode chosen, and why`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    // The test relies on the host having no /etc/boxinit of its own.
    for (const path of ["/etc/boxinit/boxinit.yaml", "/etc/boxinit/init.d", "/etc/boxinit/finish.d"]) {
      if (existsSync(path)) return t.fail(`${path} exists on this machine: every plain run would be Mini-VM mode; remove it to run this test`);
    }

    await t.test("nothing asks for Mini-VM mode: the plain run, no config, no state files, no mode line", async (t) => {
      const box = makeBox(t, "");
      const result = await runBoxinit(mode, COMMAND, { env: CLEAN_ENV, cwd: box.dir });
      t.equal(result.code, 0);
      t.match(result.stdout, /^the-command-ran$/m);
      t.notMatch(result.stderr, /Mini-VM mode|state starting|stateDir|self-managing/, "no Mini-VM machinery, no box");
      t.notOk(existsSync("/docker/status"), "nothing written to the default state directory");
    });

    const cases: Array<{ name: string; args: (box: ReturnType<typeof makeBox>) => string[]; env?: (box: ReturnType<typeof makeBox>) => NodeJS.ProcessEnv; why: string }> = [
      { name: "--config", args: (box) => [...box.args, ...COMMAND], why: "--config was given" },
      { name: "BOXINIT_CONFIG", args: () => COMMAND, env: (box) => ({ BOXINIT_CONFIG: box.configPath }), why: "BOXINIT_CONFIG is set" },
    ];
    for (const { name, args, env, why } of cases) {
      await t.test(`${name}: Mini-VM mode, "${why}"`, async (t) => {
        const box = makeBox(t, "");
        const result = await runBoxinit(mode, args(box), { env: { ...CLEAN_ENV, ...env?.(box) }, cwd: box.dir });
        t.equal(result.code, 0);
        t.match(result.stdout, /^the-command-ran$/m);
        t.ok(result.stderr.includes(`boxinit: config: Mini-VM mode: ${why}\n`), `the reason is logged: "${why}"`);
        t.equal(result.stderr.split("Mini-VM mode:").length - 1, 1, "exactly one mode line");
        t.equal(box.status(), "stopped", "the box's state directory has the final state");
      });
    }

    const stateDirCases: Array<{ name: string; args: (box: ReturnType<typeof makeBox>) => string[]; env?: (box: ReturnType<typeof makeBox>) => NodeJS.ProcessEnv }> = [
      { name: "--state-dir", args: (box) => ["--state-dir", box.stateDir, ...COMMAND] },
      { name: "BOXINIT_STATE_DIR", args: () => COMMAND, env: (box) => ({ BOXINIT_STATE_DIR: box.stateDir }) },
    ];
    for (const { name, args, env } of stateDirCases) {
      await t.test(`${name} alone: the tini-style run, self-managing (no mode line, the final state in its state directory)`, async (t) => {
        const box = makeBox(t, "");
        const result = await runBoxinit(mode, args(box), { env: { ...CLEAN_ENV, ...env?.(box) }, cwd: box.dir });
        t.equal(result.code, 0);
        t.match(result.stdout, /^the-command-ran$/m);
        t.notMatch(result.stderr, /Mini-VM mode/, "not Mini-VM mode");
        t.match(result.stderr, /self-managing: status written and backoff followed here dir=/, "the box says where it keeps its state");
        t.equal(box.status(), "stopped", "the box's state directory has the final state");
      });
    }

    await t.test("no command: Mini-VM mode, \"no command was given\" (said at -v: it is the usual case)", async (t) => {
      const box = makeBox(t, `services:\n  app: {command: [/bin/sh, -c, "echo app-ran"]}\n`);
      const quiet = await runBoxinit(mode, [], { env: { ...CLEAN_ENV, BOXINIT_CONFIG: box.configPath }, cwd: box.dir });
      t.equal(quiet.code, 0);
      t.match(quiet.stdout, /app-ran/);
      t.notMatch(quiet.stderr, /Mini-VM mode/, "not said by default");
      const verbose = await runBoxinit(mode, ["-v"], { env: { ...CLEAN_ENV, BOXINIT_CONFIG: box.configPath }, cwd: box.dir });
      t.equal(verbose.code, 0);
      t.match(verbose.stderr, /Mini-VM mode: no command was given/, "said at -v, and the command's absence comes first");
    });

    await t.test("/etc/boxinit/boxinit.yaml exists (an image that ships it): Mini-VM mode, and the reason names the file", async (t) => {
      const box = makeBox(t, "");
      const upper = join(box.dir, "etc-upper");
      const work = join(box.dir, "etc-work");
      mkdirSync(join(upper, "boxinit"), { recursive: true });
      mkdirSync(work);
      writeFileSync(join(upper, "boxinit", "boxinit.yaml"), `state_dir: ${box.stateDir}\n`);
      const result = await runBoxinit(mode, COMMAND, { env: CLEAN_ENV, cwd: box.dir, execThrough: overlayEtc(mode, upper, work) });
      t.equal(result.code, 0, result.stderr);
      t.match(result.stdout, /^the-command-ran$/m);
      t.match(result.stderr, /^boxinit: config: Mini-VM mode: \/etc\/boxinit\/boxinit\.yaml exists$/m);
      t.match(result.stderr, /config=\/etc\/boxinit\/boxinit\.yaml/, "and that file is the config read");
      t.equal(box.status(), "stopped", "its state_dir was used");
      t.notOk(existsSync("/etc/boxinit"), "the host's /etc is untouched");
    });
  });
}

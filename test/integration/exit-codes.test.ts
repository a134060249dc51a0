// Exit codes through boxinit, as PID 1 and as subreaper: every code 0-255,
// 128+N for death by signal N, 127/126 for exec failures, and --remap-exit.
import t from "tap";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit } from "../helpers/boxinit.ts";

t.teardown(killAllRuns);

// Runs `count` async jobs with at most `width` at once (the machine has 2 cores).
const inBatches = async <T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> => {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
};

for (const mode of MODES) {
  t.test(`${mode}: exit codes`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("every code 0-255 comes back unchanged", async (t) => {
      const codes = await inBatches(256, 6, async (i) => (await runBoxinit(mode, ["-q", "--", "/bin/sh", "-c", `exit ${i}`])).code);
      const wrong = codes.map((code, i) => ({ i, code })).filter(({ i, code }) => code !== i);
      t.same(wrong, [], "no code differs from the command's own");
    });

    for (const [signal, expected] of [["TERM", 143], ["HUP", 129], ["INT", 130], ["USR1", 138], ["KILL", 137]] as const) {
      await t.test(`death by SIG${signal} gives ${expected}`, async (t) => {
        const result = await runBoxinit(mode, ["-q", "--", "/bin/sh", "-c", `kill -${signal} $$`]);
        t.equal(result.code, expected);
      });
    }

    await t.test("death by a real-time signal gives 128+N too (Node's own 'exit' would say 0)", async (t) => {
      const result = await runBoxinit(mode, ["-q", "--", "/bin/sh", "-c", "kill -37 $$"]);
      t.equal(result.code, 165);
    });

    await t.test("command not found gives 127 and says so", async (t) => {
      const result = await runBoxinit(mode, ["--", "no-such-command-xyz"]);
      t.equal(result.code, 127);
      t.match(result.stderr, /cannot run "no-such-command-xyz": not found in PATH/);
    });

    await t.test("a file that is not executable gives 126", async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "boxinit-126-"));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, "script"), "#!/bin/sh\necho ran\n", { mode: 0o644 });
      const result = await runBoxinit(mode, ["--", join(dir, "script")]);
      t.equal(result.code, 126);
      t.match(result.stderr, /not an executable file/);
    });

    await t.test("a binary for another CPU gives 126 (ENOEXEC), and is never fed to /bin/sh", async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "boxinit-arch-"));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const binary = readFileSync("/bin/true");
      binary.writeUInt16LE(183, 18); // e_machine = EM_AARCH64 on an x86-64 host (or the reverse)
      if (process.arch === "arm64") binary.writeUInt16LE(62, 18);
      writeFileSync(join(dir, "foreign"), binary, { mode: 0o755 });
      const result = await runBoxinit(mode, ["--", join(dir, "foreign")]);
      t.equal(result.code, 126);
      t.match(result.stderr, /ENOEXEC/);
      t.notMatch(result.stderr, /Syntax error/);
    });

    await t.test("a text script without #! runs under /bin/sh, as execvp does", async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "boxinit-sh-"));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, "script"), "echo ran-by-sh\nexit 6\n", { mode: 0o755 });
      const result = await runBoxinit(mode, ["-q", "--", join(dir, "script")]);
      t.equal(result.code, 6);
      t.equal(result.stdout, "ran-by-sh\n");
    });

    await t.test("--remap-exit 143:0 turns a TERM death into success", async (t) => {
      const result = await runBoxinit(mode, ["-q", "--remap-exit", "143:0", "--", "/bin/sh", "-c", "kill -TERM $$"]);
      t.equal(result.code, 0);
    });

    await t.test("usage errors exit 2 before anything starts", async (t) => {
      const result = await runBoxinit(mode, ["--grace", "soon", "--rewrite", "TERM", "--", "/bin/sh", "-c", "echo started"]);
      t.equal(result.code, 2);
      t.equal(result.stdout, "", "the command never ran");
      t.match(result.stderr, /--grace: expected a duration/);
      t.match(result.stderr, /--rewrite: expected FROM:TO/);
    });
  });
}

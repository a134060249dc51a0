// `boxinit backoff on|off`'s write (control/backoff-write.ts) when backoff.file
// lies on a read-only mount, as a ConfigMap volume does in a Pod: the message
// says so and what to do instead of a raw EROFS. Needs root for the read-only
// bind mount; the file in a writable state directory keeps its own hint.
import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeBackoffWord } from "../../src/control/backoff-write.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const run = (argv: readonly string[]): void => {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 10_000 });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed (${result.status ?? result.signal}): ${result.stderr}`);
};

t.test("backoff.file on a read-only mount: a ConfigMap, changed by changing the ConfigMap", async (t) => {
  if (process.getuid?.() !== 0) return t.fail("needs root: the test makes a read-only bind mount");
  const base = tempDir(t);
  const stateDir = join(base, "state");
  const control = join(base, "control");
  mkdirSync(stateDir);
  mkdirSync(control);
  writeFileSync(join(control, "backoff"), "false\n");
  run(["mount", "--bind", control, control]);
  t.teardown(() => {
    if (spawnSync("umount", [control]).status !== 0) run(["umount", "--lazy", control]);
  });
  run(["mount", "-o", "remount,bind,ro", control]);

  const written = writeBackoffWord(stateDir, "on", join(control, "backoff"));
  t.equal(written.ok, false);
  t.equal(!written.ok && written.message, `backoff.file ${join(control, "backoff")} is read-only (a ConfigMap?): change the ConfigMap`);
  t.match(!written.ok && written.hint, /kubectl patch configmap .*"backoff":"true"/);
  t.equal(readFileSync(join(control, "backoff"), "utf8"), "false\n", "nothing changed");

  // The state directory itself read-only: its own hint, as before.
  run(["mount", "--bind", stateDir, stateDir]);
  t.teardown(() => {
    if (spawnSync("umount", [stateDir]).status !== 0) run(["umount", "--lazy", stateDir]);
  });
  run(["mount", "-o", "remount,bind,ro", stateDir]);
  const inState = writeBackoffWord(stateDir, "on");
  t.match(!inState.ok && inState.message, /^cannot write .*state\/backoff: EROFS/);
  t.match(!inState.ok && inState.hint, /read-only file system/);
});

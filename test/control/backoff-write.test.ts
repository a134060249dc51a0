// writeBackoffWord (src/control/backoff-write.ts) with backoff.file outside the
// state directory: written there atomically (a ConfigMap-style symlink at the
// name replaced, not followed), and a missing directory explained in its own
// words. The read-only (ConfigMap) case needs a mount: test/integration/backoff-write-readonly.test.ts.
import t from "tap";
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeBackoffWrite, writeBackoffWord } from "../../src/control/backoff-write.ts";
import { tempDir } from "../helpers/temp-dir.ts";

t.test("backoff.file in a directory of its own, under another name", async (t) => {
  const base = tempDir(t);
  const stateDir = join(base, "state");
  const control = join(base, "control");
  mkdirSync(stateDir);
  mkdirSync(join(control, "..data"), { recursive: true });
  writeFileSync(join(control, "..data", "pause"), "false\n");
  symlinkSync("..data/pause", join(control, "pause"));
  const written = writeBackoffWord(stateDir, "on", join(control, "pause"));
  t.same(written, { ok: true, file: join(control, "pause"), wasAlready: false });
  t.ok(lstatSync(join(control, "pause")).isFile(), "the link was replaced by a file");
  t.equal(readFileSync(join(control, "pause"), "utf8"), "true\n");
  t.equal(readFileSync(join(control, "..data", "pause"), "utf8"), "false\n", "its old target untouched");
  t.same(readdirSync(stateDir), [], "nothing written in the state directory");
  t.equal(written.ok && describeBackoffWrite("on", written), `on: wrote "true" to ${join(control, "pause")}`);
  const again = writeBackoffWord(stateDir, "on", join(control, "pause"));
  t.equal(again.ok && again.wasAlready, true, "it was already on");
});

t.test("the default file is <stateDir>/backoff, as before", async (t) => {
  const stateDir = tempDir(t);
  t.same(writeBackoffWord(stateDir, "off"), { ok: true, file: join(stateDir, "backoff"), wasAlready: true });
  t.equal(readFileSync(join(stateDir, "backoff"), "utf8"), "false\n");
});

t.test("backoff.file's directory missing: said in its own words", async (t) => {
  const base = tempDir(t);
  const written = writeBackoffWord(base, "on", join(base, "control", "backoff"));
  t.equal(written.ok, false);
  t.match(!written.ok && written.message, /^cannot write .*control\/backoff: ENOENT/);
  t.match(!written.ok && written.hint, /is the ConfigMap \(or volume\) mounted there\?/);
});

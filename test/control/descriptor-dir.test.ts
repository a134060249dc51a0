// A directory held by descriptor (src/control/descriptor-dir.ts): the
// guarantee itself: once a directory is open, swapping its name for a symlink
// changes nothing that is created, renamed, linked, listed or removed. The
// operations both kinds share: dir-handle.test.ts.
import t from "tap";
import { closeSync, constants, lstatSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStateDir } from "../../src/control/dir-handle.ts";
import { loadNative } from "../../src/native/addon.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { opened, writeNew } from "../helpers/dir-handles.ts";

const { O_CREAT, O_WRONLY, O_NOFOLLOW } = constants;
const { native: addon, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });

t.test("the addon loads", async (t) => {
  t.ok(addon, failures.join("; "));
});

t.test("by descriptor: once open, a directory swapped for a symlink is not followed by anything", async (t) => {
  const path = tempDir(t);
  const outside = tempDir(t, "boxinit-outside-");
  writeFileSync(join(outside, "victim"), "precious\n");
  writeFileSync(join(outside, "2026-01-01T00:00:00Z-cron-failure-x-exit-1-h"), "someone else's\n");
  const root = opened(t, openStateDir(path, addon));
  const logs = opened(t, root.subdir("logs", 0o755));
  writeNew(logs, "2026-01-01T00:00:00Z-cron-failure-x-exit-1-h", "ours\n");
  // The swap: the real directory moves aside, a symlink to the outside takes its name.
  renameSync(join(path, "logs"), join(path, "logs.real"));
  symlinkSync(outside, join(path, "logs"));
  writeNew(logs, "created", "new\n");
  logs.rename("created", "renamed");
  logs.link("renamed", "linked");
  t.same(logs.list().sort(), ["2026-01-01T00:00:00Z-cron-failure-x-exit-1-h", "linked", "renamed"], "the listing is the real directory's");
  logs.unlink("2026-01-01T00:00:00Z-cron-failure-x-exit-1-h");
  logs.unlink("linked");
  const fd = logs.open("victim", O_CREAT | O_WRONLY | O_NOFOLLOW, 0o644);
  closeSync(fd);
  logs.sync();
  t.same(readdirSync(outside).sort(), ["2026-01-01T00:00:00Z-cron-failure-x-exit-1-h", "victim"], "nothing created or removed outside");
  t.equal(readFileSync(join(outside, "victim"), "utf8"), "precious\n", "nothing truncated outside");
  t.equal(readFileSync(join(outside, "2026-01-01T00:00:00Z-cron-failure-x-exit-1-h"), "utf8"), "someone else's\n");
  t.same(readdirSync(join(path, "logs.real")).sort(), ["renamed", "victim"], "everything happened in the directory that was opened");
  t.ok(lstatSync(join(path, "logs")).isSymbolicLink(), "the planted link itself is left alone");
});

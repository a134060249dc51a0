import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dirWatchFor, type DirWatcher } from "../../src/control/dir-watch.ts";
import { ADDON, loadAddon } from "../helpers/addon.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";

// The addon's directory watch (native/dir-watch.c) as the backoff watch opens
// it; backoff-watch.test.ts runs every backoff case through it as well.
const native = loadAddon();
const watchDirectory = dirWatchFor(native);

const open = (t: { teardown(fn: () => unknown): void }, dir: string): { watcher: DirWatcher; names: (string | null)[] } => {
  const names: (string | null)[] = [];
  const watcher = watchDirectory(dir, (name) => names.push(name));
  t.teardown(() => watcher.close());
  return { watcher, names };
};

t.test("entry names, once per batch, for writes, renames and removals", async (t) => {
  const dir = tempDir(t);
  const { names } = open(t, dir);
  writeFileSync(join(dir, "backoff"), "true\n");
  await waitFor("the write", () => names.includes("backoff"));
  t.equal(names.filter((name) => name === "backoff").length, 1, "create, modify and close of one file in one batch: one name");
  writeFileSync(join(dir, ".backoff.new"), "false\n");
  renameSync(join(dir, ".backoff.new"), join(dir, "backoff"));
  rmSync(join(dir, "backoff"));
  await waitFor("the rename and the removal", () => names.filter((name) => name === "backoff").length >= 2);
  t.ok(names.includes(".backoff.new"), "the temporary name too");
  t.notOk(names.includes(null), "nothing about the directory itself");
});

t.test("the directory removed: null (the watch is dead, look again)", async (t) => {
  const base = tempDir(t);
  const dir = join(base, "docker");
  mkdirSync(dir);
  const { names } = open(t, dir);
  rmSync(dir, { recursive: true });
  await waitFor("an event about the directory", () => names.includes(null));
  t.pass("reported as null");
});

t.test("what cannot be watched is an error naming the call and the path", async (t) => {
  const dir = tempDir(t);
  t.throws(() => watchDirectory(join(dir, "missing"), () => {}), { code: "ENOENT", syscall: "inotify_add_watch", path: join(dir, "missing") });
  writeFileSync(join(dir, "file"), "");
  t.throws(() => watchDirectory(join(dir, "file"), () => {}), { code: "ENOTDIR" }, "a file is not a directory (IN_ONLYDIR)");
});

t.test("after close nothing more is reported", async (t) => {
  const dir = tempDir(t);
  const closed = open(t, dir);
  const witness = open(t, dir);
  closed.watcher.close();
  writeFileSync(join(dir, "backoff"), "true\n");
  await waitFor("the witness hears the write", () => witness.names.includes("backoff"));
  t.same(closed.names, [], "the closed watch heard nothing");
});

t.test("without the addon's watch: fs.watch", async (t) => {
  const dir = tempDir(t);
  const names: (string | null)[] = [];
  const watcher = dirWatchFor(undefined)(dir, (name) => names.push(name));
  t.teardown(() => watcher.close());
  writeFileSync(join(dir, "backoff"), "true\n");
  await waitFor("fs.watch reports the write", () => names.includes("backoff"));
  t.pass("reported");
});

t.test("an open watch does not keep the event loop alive", async (t) => {
  const dir = tempDir(t);
  // A process whose only handle is the watch must end by itself, as with fs.watch's persistent: false.
  const script = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(ADDON)});
const fd = m.exports.watchDir(${JSON.stringify(dir)}, () => {});
if (fd < 0) { console.error("watchDir: " + fd); process.exit(3); }
console.log("watching");`;
  const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000 });
  t.equal(child.signal, null, "it ended by itself, not at the deadline");
  t.equal(child.status, 0, child.stderr);
  t.equal(child.stdout, "watching\n");
});

// The directory handle (src/control/dir-handle.ts), both of its kinds as
// openStateDir gives them: by descriptor (descriptor-dir.ts, the addon's *at
// calls) and by path (path-dir.ts, without the addon): the same operations,
// the same errors, modes created whatever the umask; makeDirs, the hints, the
// by-path warning. The guarantee of the descriptor kind alone:
// descriptor-dir.test.ts.
import t from "tap";
import { closeSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kindOf } from "../../src/control/dir-checks.ts";
import { byPathWarningOnce, makeDirs, openOrCreate, openStateDir, stateDirHint, withStateDir, type DirHandle } from "../../src/control/dir-handle.ts";
import { loadNative } from "../../src/native/addon.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { opened, writeNew } from "../helpers/dir-handles.ts";

const { O_RDONLY, O_NOFOLLOW } = constants;
const { native: addon, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });
const VARIANTS = [["by descriptor", addon], ["by path", undefined]] as const;

const withUmask = (t: { teardown(fn: () => void): void }, mask: number): void => {
  const previous = process.umask(mask);
  t.teardown(() => process.umask(previous));
};

t.test("the addon loads", async (t) => {
  t.ok(addon, failures.join("; "));
});

for (const [variant, native] of VARIANTS) {
  t.test(`${variant}: open, rename, link, stat, list, unlink inside the directory`, async (t) => {
    const path = tempDir(t);
    const dir = opened(t, openStateDir(path, native));
    t.equal(dir.isByDescriptor, native !== undefined);
    writeNew(dir, "a", "hello\n");
    dir.rename("a", "b");
    dir.link("b", "c");
    t.throws(() => dir.link("b", "c"), { code: "EEXIST" }, "link never replaces");
    t.equal(readFileSync(join(path, "c"), "utf8"), "hello\n");
    const stat = dir.stat("c");
    t.equal(stat && kindOf(stat), "file");
    t.equal(stat?.nlink, 2, "two names");
    t.equal(stat?.size, 6);
    t.equal(stat?.ino, statSync(join(path, "c")).ino);
    t.equal(dir.stat("missing"), undefined, "missing: undefined, not an error");
    symlinkSync("/etc/passwd", join(path, "link"));
    t.equal(kindOf(dir.stat("link")!), "symlink", "a symlink is described, not followed");
    t.same(dir.list().sort(), ["b", "c", "link"]);
    dir.unlink("link");
    t.ok(existsSync("/etc/passwd"), "unlink removes the link only");
    dir.unlink("b");
    t.same(readdirSync(path).sort(), ["c"]);
    t.throws(() => dir.unlink("b"), { code: "ENOENT" });
    dir.sync();
  });

  t.test(`${variant}: a name is one component`, async (t) => {
    const dir = opened(t, openStateDir(tempDir(t), native));
    for (const name of ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\0b"]) {
      t.throws(() => dir.open(name, O_RDONLY), { code: "EINVAL" }, JSON.stringify(name));
      t.throws(() => dir.subdir(name, 0o755), { code: "EINVAL" }, JSON.stringify(name));
    }
  });

  t.test(`${variant}: list shows printable ASCII names only (never a name that would not round-trip)`, async (t) => {
    const path = tempDir(t);
    writeFileSync(join(path, "plain.txt"), "");
    writeFileSync(Buffer.concat([Buffer.from(join(path, "latin1-")), Buffer.from([0xe9])]), "", { flag: "w" });
    writeFileSync(join(path, "utf8-\u00e9"), "");
    writeFileSync(join(path, "tab\there"), "");
    const dir = opened(t, openStateDir(path, native));
    t.same(dir.list(), ["plain.txt"]);
  });

  t.test(`${variant}: subdir is created with exactly its mode under umask 077, an existing one keeps its mode`, async (t) => {
    withUmask(t, 0o077);
    const path = tempDir(t);
    const root = opened(t, openStateDir(path, native));
    opened(t, root.subdir("logs", 0o755));
    t.equal(statSync(join(path, "logs")).mode & 0o777, 0o755);
    mkdirSync(join(path, "jobs"), { mode: 0o700 });
    opened(t, root.subdir("jobs", 0o755));
    t.equal(statSync(join(path, "jobs")).mode & 0o777, 0o700, "someone chose 0700: left as it was");
    t.throws(() => root.subdir("missing"), { code: "ENOENT" }, "without a mode, a missing one is not made");
    t.notOk(existsSync(join(path, "missing")));
  });

  t.test(`${variant}: subdir refuses a symlink (ELOOP) and a file (ENOTDIR), and makes nothing where a link points`, async (t) => {
    const path = tempDir(t);
    const outside = tempDir(t, "boxinit-outside-");
    symlinkSync(outside, join(path, "logs"));
    symlinkSync(join(outside, "nothing-here"), join(path, "dangling"));
    writeFileSync(join(path, "jobs"), "a file\n");
    const root = opened(t, openStateDir(path, native));
    t.throws(() => root.subdir("logs", 0o755), { code: "ELOOP", message: /logs is a symlink: refusing to work through it/ });
    t.throws(() => root.subdir("dangling", 0o755), { code: "ELOOP" });
    t.throws(() => root.subdir("jobs", 0o755), { code: "ENOTDIR", message: /jobs is not a directory/ });
    t.same(readdirSync(outside), [], "nothing created where the links point");
  });

  t.test(`${variant}: openOrCreate makes a file with exactly its mode under umask 077; an existing one is opened as it is`, async (t) => {
    withUmask(t, 0o077);
    const path = tempDir(t);
    const dir = opened(t, openStateDir(path, native));
    const created = openOrCreate(dir, ".status.lock", O_RDONLY | O_NOFOLLOW, 0o644);
    closeSync(created.fd);
    t.equal(created.isCreated, true);
    t.equal(statSync(join(path, ".status.lock")).mode & 0o777, 0o644);
    writeFileSync(join(path, "mine"), "x", { mode: 0o600 });
    const existing = openOrCreate(dir, "mine", O_RDONLY | O_NOFOLLOW, 0o644);
    closeSync(existing.fd);
    t.equal(existing.isCreated, false);
    t.equal(statSync(join(path, "mine")).mode & 0o777, 0o600, "left as it was");
    symlinkSync(join(path, "mine"), join(path, "planted"));
    t.throws(() => openOrCreate(dir, "planted", O_RDONLY | O_NOFOLLOW, 0o644), { code: "ELOOP" }, "a symlink is not followed");
  });

  t.test(`${variant}: withStateDir closes the directory whatever fn does; a missing or non-directory state dir is an error`, async (t) => {
    const path = tempDir(t);
    let seen: DirHandle | undefined;
    t.throws(() => withStateDir(path, native, (dir) => {
      seen = dir;
      throw new Error("boom");
    }), { message: "boom" });
    if (native) t.throws(() => seen!.list(), { code: "EBADF" }, "closed afterwards");
    t.throws(() => openStateDir(join(path, "missing"), native), { code: "ENOENT" });
    writeFileSync(join(path, "file"), "");
    t.throws(() => openStateDir(join(path, "file"), native), { code: "ENOTDIR" });
  });
}

t.test("makeDirs: every level it creates gets exactly the mode under umask 077; existing levels keep theirs", async (t) => {
  withUmask(t, 0o077);
  const base = tempDir(t);
  const deep = join(base, "a", "b", "c");
  t.equal(makeDirs(deep, 0o755), true);
  for (const level of [join(base, "a"), join(base, "a", "b"), deep]) t.equal(statSync(level).mode & 0o777, 0o755, level);
  t.equal(statSync(base).mode & 0o777, 0o700, "the existing parent is not touched");
  t.equal(makeDirs(deep, 0o755), false, "nothing to create the second time");
});

t.test("hints: what to do about the errnos of a state directory", async (t) => {
  t.match(stateDirHint("EROFS"), /read-only file system: mount it read-write/);
  t.match(stateDirHint("ELOOP"), /symlink/);
  t.match(stateDirHint("EACCES"), /runs as uid \d+/);
  t.equal(stateDirHint("EINVAL"), undefined);
  t.equal(stateDirHint(undefined), undefined);
});

t.test("the by-path warning: never with the addon, once without it", async (t) => {
  t.equal(byPathWarningOnce(addon), undefined);
  t.match(byPathWarningOnce(undefined), /no addon: logs\/ and jobs\/ are used by path/);
  t.equal(byPathWarningOnce(undefined), undefined, "said once per process");
});

// What both directory handles share (src/control/dir-checks.ts): the
// one-component name check, refusals in words, an entry's kind, the names
// listed, and the errnos of a file system without modes.
import t from "tap";
import { constants } from "node:fs";
import { checkName, codeOf, fsError, isModeUnsupported, isPlainName, kindOf, refusal } from "../../src/control/dir-checks.ts";

const { S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO } = constants;
const entry = (mode: number) => ({ mode, size: 0, mtimeMs: 0, nlink: 1, uid: 0, ino: 1 });

t.test("checkName: one component, or EINVAL", async (t) => {
  for (const name of ["", ".", "..", "a/b", "../x", "nul\0"]) t.throws(() => checkName(name), { code: "EINVAL" }, JSON.stringify(name));
  for (const name of ["status", ".status.lock", "...", "a b"]) t.doesNotThrow(() => checkName(name), name);
});

t.test("kindOf: from st_mode's type bits, permission bits ignored", async (t) => {
  t.equal(kindOf(entry(S_IFREG | 0o644)), "file");
  t.equal(kindOf(entry(S_IFDIR | 0o755)), "directory");
  t.equal(kindOf(entry(S_IFLNK | 0o777)), "symlink");
  t.equal(kindOf(entry(S_IFIFO | 0o600)), "other");
});

t.test("refusal: ELOOP and ENOTDIR in words; ENOTDIR of a symlink is ELOOP; others as they were", async (t) => {
  t.match(refusal(fsError("ELOOP", ""), "/s/logs"), { code: "ELOOP", message: "/s/logs is a symlink: refusing to work through it" });
  t.match(refusal(fsError("ENOTDIR", ""), "/s/jobs"), { code: "ENOTDIR", message: "/s/jobs is not a directory: refusing to work through it" });
  t.match(refusal(fsError("ENOTDIR", ""), "/s/logs", true), { code: "ELOOP" }, "openat(O_DIRECTORY|O_NOFOLLOW) says ENOTDIR for a symlink");
  const other = fsError("EACCES", "denied");
  t.equal(refusal(other, "/s/logs", true), other);
});

t.test("codeOf and isModeUnsupported: the errnos of a file system without chmod", async (t) => {
  t.equal(codeOf(fsError("EROFS", "")), "EROFS");
  t.equal(codeOf(new Error("plain")), undefined);
  t.equal(codeOf(undefined), undefined);
  for (const code of ["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]) t.ok(isModeUnsupported(fsError(code, "")), code);
  for (const code of ["EACCES", "EROFS", "EBADF"]) t.notOk(isModeUnsupported(fsError(code, "")), code);
});

t.test("isPlainName: printable ASCII only", async (t) => {
  t.ok(isPlainName("2026-01-01T00:00:00Z-cron-failure-x-exit-1-h"));
  t.ok(isPlainName("a b~"));
  t.notOk(isPlainName("tab\there"));
  t.notOk(isPlainName("utf8-\u00e9"));
  t.notOk(isPlainName(""));
});

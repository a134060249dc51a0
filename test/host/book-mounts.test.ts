// A book's maps and home (src/host/book-mounts.ts), read directly; the same
// keys through a whole book's messages: book.test.ts.
import t from "tap";
import type { Issues } from "../../src/config/schema.ts";
import { directoryKey, readHome, readMaps, STATE_DIR } from "../../src/host/book-mounts.ts";

const fresh = (): Issues => ({ errors: [], warnings: [] });

t.test("directoryKey: one key per directory as Docker compares mount points", async (t) => {
  for (const path of ["/docker", "/docker/", "//docker", "/docker/./"]) t.equal(directoryKey(path), STATE_DIR, path);
  t.equal(directoryKey("/"), "/");
});

t.test("readMaps: valid maps kept, the map to /docker seen even with a bad src", async (t) => {
  const issues = fresh();
  const read = readMaps([{ src: "/srv/app", dst: "/docker/" }, { src: "/data", dst: "/var/data", read_only: "true" }], issues);
  t.same(read, { maps: [{ src: "/srv/app", dst: "/docker/", isReadOnly: false }, { src: "/data", dst: "/var/data", isReadOnly: true }], hasStateDirMap: true });
  t.same(issues.errors, []);
  const bad = fresh();
  t.same(readMaps([{ src: "relative", dst: "/docker" }], bad), { maps: [], hasStateDirMap: true });
  t.equal(bad.errors.length, 1);
});

t.test("readHome: the map to /docker by default; nothing at all is an error; another directory a warning", async (t) => {
  const maps = [{ src: "/srv/app", dst: "/docker", isReadOnly: false }];
  t.equal(readHome(undefined, maps, true, fresh()), "/srv/app");
  const none = fresh();
  t.equal(readHome(undefined, [], false, none), undefined);
  t.match(none.errors, [/^home: expected an absolute path .* or map a host directory to \/docker$/]);
  const other = fresh();
  t.equal(readHome("/elsewhere", maps, true, other), "/elsewhere");
  t.match(other.warnings, [/is not the directory mapped to \/docker/]);
});

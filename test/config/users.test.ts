import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { parseGroup, parsePasswd, resolveUser, type UserTables } from "../../src/config/users.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/config");

const tables: UserTables = {
  passwd: parsePasswd(readFileSync(join(FIXTURES, "passwd"), "utf8")),
  groups: parseGroup(readFileSync(join(FIXTURES, "group"), "utf8")),
  passwdFile: "/etc/passwd",
  groupFile: "/etc/group",
};

t.test("passwd lines", async (t) => {
  t.same(parsePasswd("root:x:0:0:root:/root:/bin/bash\napp:x:1000:100::/home/app:/bin/sh\r\n"), [
    { name: "root", uid: 0, gid: 0, home: "/root" },
    { name: "app", uid: 1000, gid: 100, home: "/home/app" },
  ]);
  t.same(parsePasswd("# comment\n\n+nis\n-nis\nbad:x:abc:0::/:\nshort:x:1\nnohome:x:5:5\n"), [
    { name: "nohome", uid: 5, gid: 5, home: "/" },
  ], "comments, NIS lines and malformed lines are skipped; a missing home is /");
  t.equal(tables.passwd.length, 5, "the fixture's broken line is skipped");
});

t.test("group lines", async (t) => {
  t.same(parseGroup("docker:x:999:a,b\nempty:x:5:\nnomembers:x:6\nbad:x:-1:a\n"), [
    { name: "docker", gid: 999, members: ["a", "b"] },
    { name: "empty", gid: 5, members: [] },
    { name: "nomembers", gid: 6, members: [] },
  ]);
});

t.test("resolve by name or uid, with supplementary groups", async (t) => {
  const byName = resolveUser({ user: "confluence" }, tables);
  t.same(byName, {
    ok: true,
    user: { name: "confluence", uid: 2002, gid: 2002, groups: [2002, 4, 999], home: "/var/atlassian/application-data/confluence" },
  });
  t.same(resolveUser({ user: "2002" }, tables), byName, "a uid finds the same entry");
  t.same(resolveUser({ user: "root" }, tables), { ok: true, user: { name: "root", uid: 0, gid: 0, groups: [0], home: "/root" } });
});

t.test("group: replaces the primary gid", async (t) => {
  t.same(resolveUser({ user: "app", group: "docker" }, tables), {
    ok: true, user: { name: "app", uid: 1000, gid: 999, groups: [999], home: "/home/app" },
  });
  t.same(resolveUser({ user: "app", group: "4242" }, tables), {
    ok: true, user: { name: "app", uid: 1000, gid: 4242, groups: [4242, 999], home: "/home/app" },
  }, "a gid not in the file is used as given");
});

t.test("unknown names are errors, unknown numbers are used as Docker does", async (t) => {
  t.same(resolveUser({ user: "nobodyx" }, tables), { ok: false, key: "user", message: 'no such user "nobodyx" in /etc/passwd' });
  t.same(resolveUser({ user: "app", group: "wheel" }, tables), { ok: false, key: "group", message: 'no such group "wheel" in /etc/group' });
  t.same(resolveUser({ user: "4321" }, tables), { ok: true, user: { name: "4321", uid: 4321, gid: 0, groups: [0], home: "/" } });
  t.same(resolveUser({ user: "99999999999" }, tables).ok, false, "beyond a uid_t is a name, and not found");
});

import t from "tap";
import { environmentFor } from "../../src/supervisor/spawn.ts";

t.test("a service's environment: the container's, its user's identity, then its own", async (t) => {
  const base = { PATH: "/bin", HOME: "/root", USER: "root", KEEP: "1", UNSET: undefined };
  const user = { name: "app", uid: 1000, gid: 1000, groups: [1000], home: "/home/app" };
  t.same(environmentFor({ env: { HOME: "/override", EXTRA: "x" }, user }, base), {
    PATH: "/bin",
    HOME: "/override",
    USER: "app",
    LOGNAME: "app",
    KEEP: "1",
    EXTRA: "x",
  });
  t.same(environmentFor({}, base), { PATH: "/bin", HOME: "/root", USER: "root", KEEP: "1" }, "no user: unchanged");
});

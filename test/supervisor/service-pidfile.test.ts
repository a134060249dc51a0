// Whether a pid from a pidfile may be followed, on this test process's own
// /proc (nothing is started): boxinit itself, its own group and a stranger
// are refused; the group a followed daemon's signals go to is never boxinit's.
import t from "tap";
import { groupOf, pidfileRefusal } from "../../src/supervisor/service-pidfile.ts";
import { PID_MAX_LIMIT } from "../../src/supervisor/pidfile.ts";

t.test("refused: boxinit itself, its own process group, a process it did not start", async (t) => {
  t.equal(pidfileRefusal(process.pid), `it names boxinit itself (pid ${process.pid})`);
  // The parent (tap) shares this process's group unless it made one of its own for it.
  if (process.ppid > 1) {
    const refusal = pidfileRefusal(process.ppid);
    t.ok(refusal === `pid ${process.ppid} is in boxinit's own process group` || refusal?.endsWith("(not a descendant of boxinit)"), refusal ?? "not refused");
  }
  t.equal(pidfileRefusal(PID_MAX_LIMIT), `pid ${PID_MAX_LIMIT} is not a process started by this service (not a descendant of boxinit)`);
});

t.test("groupOf: never boxinit's own group, nothing for a pid that is gone", async (t) => {
  t.equal(groupOf(process.pid), undefined, "its own group would signal boxinit");
  t.equal(groupOf(PID_MAX_LIMIT), undefined);
});

// Which processes a failed start left behind, row by row (a pure choice over a
// process table), and stopping them on real processes: TERM first, SIGKILL
// only for what is still there at the deadline.
import t from "tap";
import { spawn } from "node:child_process";
import { once } from "node:events";
import type { ProcEntry } from "../../src/pid1/proc-table.ts";
import { attributeLeftovers, describeProcesses, serviceMarker, stopLeftovers } from "../../src/supervisor/start-leftovers.ts";
import { isProcessAlive } from "../../src/supervisor/pidfile.ts";
import { monotonicMs } from "../../src/time/clock.ts";
import { Logger } from "../../src/log/logger.ts";

const entry = (pid: number, ppid: number, pgrp: number, session: number, comm = "x", state = "S"): ProcEntry =>
  ({ pid, ppid, pgrp, session, startTicks: 0, state, comm });

t.test("attribution, row by row", async (t) => {
  // boxinit is 1; the failed start command was 10 (leader of session and group 10).
  const table = [
    entry(11, 1, 10, 10, "java"), // catalina's `nohup java &`: re-parented, still in the start's session
    entry(12, 11, 10, 10, "java-child"),
    entry(20, 1, 20, 20, "postgres"), // pg_ctl's setsid daemon, carries the marker
    entry(21, 20, 20, 20, "postgres-w"), // its child
    entry(30, 1, 30, 30, "other"), // another service's process: no marker of ours, other session
    entry(31, 1, 31, 31, "followed"), // the process the service followed
    entry(40, 1, 41, 40, "grouped"), // in another group of the start's session... no: session 40
    entry(50, 1, 10, 50, "in-group"), // left the session but kept the group
    entry(60, 1, 60, 60, "zombie", "Z"),
  ];
  const marked = new Set([20, 60]);
  const found = (followedPid?: number): number[] =>
    attributeLeftovers(table, { starterPid: 10, service: "web", ...(followedPid && { followedPid }) }, (pid) => marked.has(pid))
      .map((e) => e.pid)
      .sort((a, b) => a - b);
  t.same(found(), [11, 12, 20, 21, 50], "the start's session and group, the marked, and their descendants; no zombies, nothing else");
  t.same(found(31), [11, 12, 20, 21, 31, 50], "and the followed process when there was one");
  t.same(attributeLeftovers([], { starterPid: 10, service: "web" }, () => true), [], "nothing left");
});

t.test("the marker and the log line", async (t) => {
  t.equal(serviceMarker("web"), "BOXINIT_SERVICE=web");
  t.equal(describeProcesses([entry(7, 1, 7, 7, "sh"), entry(9, 7, 7, 7, "sleep")]), "pid 7 (sh), pid 9 (sleep)");
});

const recordingLog = (): { log: Logger; messages: string[] } => {
  const messages: string[] = [];
  return { log: new Logger({ write: (_level, _event, message) => messages.push(message) }, "debug"), messages };
};

t.test("stopping real leftovers: TERM, and SIGKILL only for one that ignores it", async (t) => {
  // Children of this test process carry the marker: they stand for what a start left.
  const env = { ...process.env, BOXINIT_SERVICE: "leftover-test" };
  const polite = spawn("sleep", ["30"], { stdio: "ignore", env });
  const stubborn = spawn("sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"], { stdio: ["ignore", "pipe", "ignore"], env });
  t.teardown(() => {
    polite.kill("SIGKILL");
    stubborn.kill("SIGKILL");
  });
  await once(polite, "spawn");
  await once(stubborn.stdout!, "data");
  const politeEnded = once(polite, "exit");
  const { log, messages } = recordingLog();
  const outcome = await stopLeftovers({ starterPid: -1, service: "leftover-test" }, 15, { at: monotonicMs() + 500 }, log);
  const [, politeSignal] = await politeEnded;
  t.equal(politeSignal, "SIGTERM", "the polite one ended on SIGTERM");
  t.ok(outcome.signalled.some((e) => e.pid === polite.pid), "it was among those signalled");
  t.ok(outcome.killed.some((e) => e.pid === stubborn.pid), "the one ignoring TERM was killed at the deadline");
  t.notOk(outcome.killed.some((e) => e.pid === polite.pid), "the polite one was not");
  t.match(messages[0], new RegExp(`stopping what the failed start left behind: .*pid ${polite.pid} \\(sleep\\).* \\(SIGTERM now, SIGKILL at the deadline\\)`));
  t.match(messages[1], new RegExp(`killed what the failed start left behind .*: pid ${stubborn.pid} \\(sh\\)`));
  await once(stubborn, "exit");
  t.notOk(isProcessAlive(stubborn.pid!), "and is gone");
});

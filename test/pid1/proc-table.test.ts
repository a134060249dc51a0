import t from "tap";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { descendantsOf, hasEnvironmentEntry, parseStat, processStartTime, readProcEntry, readProcTable, type ProcEntry } from "../../src/pid1/proc-table.ts";

// A stat line as the kernel writes it (52 fields); only the ones parsed vary.
const statLine = (pid: number, comm: string, state: string, ppid: number, pgrp: number, session: number, startTicks: number): string =>
  `${pid} (${comm}) ${state} ${ppid} ${pgrp} ${session} 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 3133440 385 18446744073709551615 1 2 3 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 4 5 6 7 8 9 10 0`;

t.test("stat lines, including hostile command names", async (t) => {
  t.same(parseStat(statLine(42, "sleep", "S", 7, 40, 42, 21166)), { pid: 42, ppid: 7, state: "S", pgrp: 40, session: 42, startTicks: 21166, comm: "sleep" });
  t.same(parseStat(statLine(43, "a) b) (c", "Z", 1, 43, 43, 5)), { pid: 43, ppid: 1, state: "Z", pgrp: 43, session: 43, startTicks: 5, comm: "a) b) (c" });
  t.same(parseStat(statLine(44, "with space", "R", 2, 0, 0, 9)), { pid: 44, ppid: 2, state: "R", pgrp: 0, session: 0, startTicks: 9, comm: "with space" });
  t.equal(parseStat("garbage"), undefined);
  t.equal(parseStat("42 (sleep) S 7 40 42 0 -1"), undefined, "a cut line has no start time: refused, not half-parsed");
});

t.test("descendants of a pid", async (t) => {
  const entry = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, state: "S", pgrp: pid, session: pid, startTicks: 0, comm: "x" });
  const table = [entry(1, 0), entry(10, 1), entry(11, 10), entry(12, 11), entry(20, 1), entry(30, 99)];
  t.same(descendantsOf(10, table).map((e) => e.pid), [11, 12]);
  t.same(descendantsOf(1, table).map((e) => e.pid).sort((a, b) => a - b), [10, 11, 12, 20]);
  t.same(descendantsOf(30, table), []);
});

t.test("the live table contains this process with its parent, session and start time", async (t) => {
  const self = readProcTable().find((e) => e.pid === process.pid);
  t.ok(self);
  t.equal(self?.ppid, process.ppid);
  t.ok((self?.startTicks ?? 0) > 0, "a start time after boot");
  t.same(readProcEntry("self"), readProcEntry(process.pid));
});

t.test("processStartTime: field 22 as text, null for a pid that is gone", async (t) => {
  t.equal(processStartTime(process.pid), String(readProcEntry("self")?.startTicks));
  t.match(processStartTime(process.pid), /^\d+$/);
  const child = spawn("true", [], { stdio: "ignore" });
  await once(child, "close");
  t.equal(processStartTime(child.pid!), null, "reaped: no entry");
});

t.test("a child's environment entry is found exactly", async (t) => {
  const child = spawn("sleep", ["30"], { stdio: "ignore", env: { ...process.env, BOXINIT_SERVICE: "web" } });
  t.teardown(() => child.kill("SIGKILL"));
  await once(child, "spawn");
  t.equal(hasEnvironmentEntry(child.pid!, "BOXINIT_SERVICE=web"), true);
  t.equal(hasEnvironmentEntry(child.pid!, "BOXINIT_SERVICE=we"), false, "a prefix is not the entry");
  t.equal(hasEnvironmentEntry(child.pid!, "BOXINIT_SERVICE=db"), false);
  t.equal(hasEnvironmentEntry(4_194_304, "BOXINIT_SERVICE=web"), false, "no such process");
});

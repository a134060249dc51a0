import t from "tap";
import { descendantsOf, parseStat, readProcTable, type ProcEntry } from "../../src/pid1/proc-table.ts";

t.test("stat lines, including hostile command names", async (t) => {
  t.same(parseStat("42 (sleep) S 7 40 42 0 -1"), { pid: 42, ppid: 7, state: "S", pgrp: 40, comm: "sleep" });
  t.same(parseStat("43 (a) b) (c) Z 1 43 43 0"), { pid: 43, ppid: 1, state: "Z", pgrp: 43, comm: "a) b) (c" });
  t.same(parseStat("44 (with space) R 2 0 0"), { pid: 44, ppid: 2, state: "R", pgrp: 0, comm: "with space" });
  t.equal(parseStat("garbage"), undefined);
});

t.test("descendants of a pid", async (t) => {
  const entry = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, state: "S", pgrp: pid, comm: "x" });
  const table = [entry(1, 0), entry(10, 1), entry(11, 10), entry(12, 11), entry(20, 1), entry(30, 99)];
  t.same(descendantsOf(10, table).map((e) => e.pid), [11, 12]);
  t.same(descendantsOf(1, table).map((e) => e.pid).sort((a, b) => a - b), [10, 11, 12, 20]);
  t.same(descendantsOf(30, table), []);
});

t.test("the live table contains this process with its parent", async (t) => {
  const self = readProcTable().find((e) => e.pid === process.pid);
  t.ok(self);
  t.equal(self?.ppid, process.ppid);
});

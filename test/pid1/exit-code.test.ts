import t from "tap";
import { decodeWaitStatus, exitCodeFor, parseRemaps, remapExitCode } from "../../src/pid1/exit-code.ts";

t.test("exit code of an ending", async (t) => {
  t.equal(exitCodeFor({ code: 0, signal: null }), 0);
  t.equal(exitCodeFor({ code: 255, signal: null }), 255);
  t.equal(exitCodeFor({ code: null, signal: 15 }), 143);
  t.equal(exitCodeFor({ code: null, signal: 9 }), 137);
  t.equal(exitCodeFor({ code: null, signal: 1 }), 129);
  t.equal(exitCodeFor({ code: null, signal: 37 }), 165, "real-time signals too");
});

t.test("raw wait statuses", async (t) => {
  t.same(decodeWaitStatus(3 << 8), { code: 3, signal: null });
  t.same(decodeWaitStatus(0), { code: 0, signal: null });
  t.same(decodeWaitStatus(9), { code: null, signal: 9 });
  t.same(decodeWaitStatus(15 | 0x80), { code: null, signal: 15 }, "core-dump bit ignored");
  t.same(decodeWaitStatus(37), { code: null, signal: 37 });
});

t.test("remap table", async (t) => {
  const { table, errors } = parseRemaps(["143:0", "1:2"]);
  t.same(errors, []);
  t.equal(remapExitCode(143, table), 0);
  t.equal(remapExitCode(1, table), 2);
  t.equal(remapExitCode(2, table), 2, "not transitive");
  t.equal(remapExitCode(5, table), 5);
  const bad = parseRemaps(["143", "300:0", "a:b"]);
  t.equal(bad.errors.length, 3);
  t.match(bad.errors[0], /--remap-exit: expected FROM:TO with codes 0-255 \(e.g. 143:0\), got "143"/);
});

import t from "tap";
import {
  checkKeys, closestKey, describeValue, editDistance, isMap, keyPath, readCommand, readList, readDuration, readNameList, readStopSignal,
  type Issues,
} from "../../src/config/schema.ts";

const fresh = (): Issues => ({ errors: [], warnings: [] });

t.test("what was found, in messages", async (t) => {
  t.equal(describeValue("9 seconds"), '"9 seconds"');
  t.equal(describeValue(null), "nothing");
  t.equal(describeValue(undefined), "nothing");
  t.equal(describeValue(["a"]), "a list");
  t.equal(describeValue({ a: 1 }), "a map");
});

t.test("paths", async (t) => {
  t.equal(keyPath("", "grace"), "grace");
  t.equal(keyPath("services", "web"), "services.web");
  t.equal(keyPath("services", "web.api"), 'services["web.api"]');
  t.equal(keyPath("links", "/a/b"), 'links["/a/b"]');
  t.equal(keyPath("", "a b"), '"a b"');
});

t.test("did you mean", async (t) => {
  t.equal(editDistance("comand", "command"), 1);
  t.equal(editDistance("", "abc"), 3);
  t.equal(editDistance("kitten", "sitting"), 3);
  t.equal(closestKey("Command", ["command", "cwd"]), "command", "case does not count");
  t.equal(closestKey("restrat", ["restart", "restart_delay"]), "restart");
  t.equal(closestKey("colour", ["command", "cwd"]), undefined, "nothing within two edits");
  const issues = fresh();
  checkKeys({ grace: "1s", grcae: "2s", zzz: "" }, ["grace", "heartbeat"], "", issues);
  t.same(issues.errors, ['grcae: unknown key (did you mean "grace"?)', "zzz: unknown key"]);
});

t.test("durations", async (t) => {
  const issues = fresh();
  t.equal(readDuration("1m30s", "x", issues), 90_000);
  t.equal(readDuration(undefined, "x", issues), undefined, "absent: no problem, the default applies");
  t.equal(readDuration("0s", "x", issues), 0, "zero is fine where not told otherwise");
  t.same(issues.errors, []);
  readDuration("0s", "interval", issues, true);
  readDuration(null, "grace", issues);
  readDuration(["1s"], "grace", issues);
  t.same(issues.errors, [
    'interval: expected a duration above 0, got "0s"',
    "grace: expected a duration such as 250ms, 9s, 5m, got nothing",
    "grace: expected a duration such as 250ms, 9s, 5m, got a list",
  ]);
});

t.test("commands", async (t) => {
  const issues = fresh();
  t.same(readCommand("exec app", "c", issues), ["/bin/sh", "-c", "exec app"]);
  t.same(readCommand(["/app", "--flag", ""], "c", issues), ["/app", "--flag", ""], "empty arguments after the program are kept");
  t.same(issues.errors, []);
  readCommand("  ", "c", issues);
  readCommand([], "c", issues);
  readCommand(["/app", null], "c", issues);
  t.same(issues.errors, [
    'c: expected a command (a list of strings, or a string for sh -c), got "  "',
    "c: expected a command (a list of strings, or a string for sh -c), got a list",
    "c[1]: expected a string, got nothing",
  ]);
});

t.test("name lists and signals", async (t) => {
  const issues = fresh();
  t.same(readNameList("db", "after", issues), ["db"]);
  t.same(readNameList(["db", "cache"], "after", issues), ["db", "cache"]);
  t.same(readNameList(null, "after", issues), undefined, "empty after: is no dependency");
  t.equal(readStopSignal("TERM", "s", issues), 15);
  t.equal(readStopSignal("SIGINT", "s", issues), 2);
  t.equal(readStopSignal("kill", "s", issues), 9);
  t.equal(readStopSignal("3", "s", issues), 3);
  t.same(issues.errors, []);
  readStopSignal("0", "s", issues);
  readStopSignal("SIGSTOP", "s", issues);
  t.same(issues.errors, [
    's: expected a signal name such as TERM or SIGINT, got "0"',
    's: expected a signal that ends a process (STOP only pauses it), got "SIGSTOP"',
  ]);
});

t.test("isMap and readList: absent and empty are no problem", async (t) => {
  t.ok(isMap({}));
  t.notOk(isMap([]));
  t.notOk(isMap(null));
  t.notOk(isMap("a"));
  const issues = fresh();
  t.same(readList(undefined, "port", issues, "a list"), []);
  t.same(readList(null, "port", issues, "a list"), []);
  t.same(readList(["a"], "port", issues, "a list"), ["a"]);
  t.same(issues.errors, []);
  t.same(readList("80", "port", issues, "a list of {src, dst} maps"), []);
  t.same(issues.errors, ['port: expected a list of {src, dst} maps, got "80"']);
});

import t from "tap";
import { describeShortage, shortageOf } from "../../src/pid1/resource-shortage.ts";
import { NativeError } from "../../src/native/addon.ts";
import { notStartedByShortage } from "../../src/pid1/start-process.ts";

t.test("a shortage of boxinit's own resources is named as what it is (issue 13, bug 2)", async (t) => {
  t.match(describeShortage("EMFILE"), /^boxinit is out of file descriptors \(EMFILE/);
  t.match(describeShortage("ENFILE"), /^the system is out of file descriptors \(ENFILE/);
  t.match(describeShortage("EAGAIN"), /^the system refused a new process \(EAGAIN/);
  t.match(describeShortage("ENOMEM"), /^boxinit is out of memory \(ENOMEM\)/);
  for (const code of ["ENOENT", "EACCES", "ENOEXEC", "E2BIG", "EPERM", undefined]) t.equal(describeShortage(code), undefined, `${code}: the command's problem`);
});

t.test("errors carry the shortage: the addon's (any stage) and Node's", async (t) => {
  const { constants } = await import("node:os");
  t.match(shortageOf(new NativeError("pipe2", constants.errno.EMFILE)), /EMFILE/);
  t.match(shortageOf(new NativeError("exec", constants.errno.EAGAIN)), /EAGAIN/);
  t.match(shortageOf(Object.assign(new Error("spawn ENOMEM"), { code: "ENOMEM" })), /ENOMEM/);
  t.equal(shortageOf(new NativeError("exec", constants.errno.ENOENT)), undefined);
  t.equal(shortageOf("EMFILE"), undefined, "only an error's code counts");
  t.equal(shortageOf(undefined), undefined);
});

t.test("a start that met a shortage is not the command's failure: kind resources, exit 71", async (t) => {
  const { constants } = await import("node:os");
  const notStarted = notStartedByShortage(new NativeError("pipe2", constants.errno.EMFILE), "its output pipes");
  t.same(notStarted, {
    problem: "its output pipes: boxinit is out of file descriptors (EMFILE: its open-file limit, ulimit -n, is reached)",
    exitCode: 71,
    kind: "resources",
  });
  t.equal(notStartedByShortage(new NativeError("exec", constants.errno.EACCES), "x"), undefined);
});

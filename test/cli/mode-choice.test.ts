// whyMiniVm (src/cli/init.ts), the pure choice between the tini-style run
// and Mini-VM mode: every reason, and which one is named when several hold
// (the first in this order: no command, --config, the BOXINIT_* variables,
// then the default paths existing). A state directory alone is no reason any
// more: the tini-style run keeps it itself (self-managing, issue 14), as a
// Mini-VM with only a command did. The binary's side (the reason in the log,
// the mode really run): test/integration/mode-choice.test.ts.
import t from "tap";
import { parseInitArgs } from "../../src/cli/args.ts";
import { whyMiniVm } from "../../src/cli/init.ts";

const argsOf = (argv: string[]) => {
  const parsed = parseInitArgs(argv, {});
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.args;
};

const none = (): boolean => false;
const only = (...paths: string[]) => (path: string): boolean => paths.includes(path);
const COMMAND = ["--", "sleep", "1"];

t.test("nothing asks for it: the plain run (undefined), and nothing else is looked at", async (t) => {
  const looked: string[] = [];
  t.equal(whyMiniVm(argsOf(COMMAND), {}, (path) => { looked.push(path); return false; }), undefined);
  t.same(looked, ["/etc/boxinit/boxinit.yaml", "/etc/boxinit/init.d", "/etc/boxinit/finish.d"], "only the default config and script directories are looked for");
  t.equal(whyMiniVm(argsOf(COMMAND), { BOXINIT_GRACE: "5s", BOXINIT_LOG_FORMAT: "json", BOXINIT_CONFIG: "" }, none), undefined,
    "other BOXINIT_* variables, and an empty BOXINIT_CONFIG, do not choose it");
});

t.test("each reason on its own", async (t) => {
  t.equal(whyMiniVm(argsOf([]), {}, none), "no command was given");
  t.equal(whyMiniVm(argsOf(["--config", "/x.yaml", ...COMMAND]), {}, none), "--config was given");
  for (const name of ["BOXINIT_CONFIG", "BOXINIT_INIT_DIR", "BOXINIT_FINISH_DIR"]) {
    t.equal(whyMiniVm(argsOf(COMMAND), { [name]: "/somewhere" }, none), `${name} is set`);
  }
  for (const path of ["/etc/boxinit/boxinit.yaml", "/etc/boxinit/init.d", "/etc/boxinit/finish.d"]) {
    t.equal(whyMiniVm(argsOf(COMMAND), {}, only(path)), `${path} exists`);
  }
});

t.test("a state directory alone is not a reason: the tini-style run is self-managing with it", async (t) => {
  t.equal(whyMiniVm(argsOf(["--state-dir", "/s", ...COMMAND]), {}, none), undefined, "--state-dir");
  t.equal(whyMiniVm(argsOf(COMMAND), { BOXINIT_STATE_DIR: "/s" }, none), undefined, "BOXINIT_STATE_DIR");
  t.equal(whyMiniVm(argsOf(["--state-dir", "/s", ...COMMAND]), { BOXINIT_STATE_DIR: "/s" }, only("/docker")), undefined, "both, and /docker existing");
  t.equal(whyMiniVm(argsOf(["--state-dir", "/s"]), {}, none), "no command was given", "without a command it is still Mini-VM mode");
});

t.test("when several hold, the first in order is named", async (t) => {
  const everything = { BOXINIT_CONFIG: "/c", BOXINIT_STATE_DIR: "/s", BOXINIT_INIT_DIR: "/i", BOXINIT_FINISH_DIR: "/f" };
  const allPaths = only("/etc/boxinit/boxinit.yaml", "/etc/boxinit/init.d", "/etc/boxinit/finish.d");
  t.equal(whyMiniVm(argsOf(["--config", "/x", "--state-dir", "/s"]), everything, allPaths), "no command was given");
  t.equal(whyMiniVm(argsOf(["--config", "/x", "--state-dir", "/s", ...COMMAND]), everything, allPaths), "--config was given");
  t.equal(whyMiniVm(argsOf(["--state-dir", "/s", ...COMMAND]), everything, allPaths), "BOXINIT_CONFIG is set", "--state-dir is passed over: not a reason");
  t.equal(whyMiniVm(argsOf(COMMAND), everything, allPaths), "BOXINIT_CONFIG is set");
  t.equal(whyMiniVm(argsOf(COMMAND), { BOXINIT_FINISH_DIR: "/f", BOXINIT_INIT_DIR: "/i" }, allPaths), "BOXINIT_INIT_DIR is set");
  t.equal(whyMiniVm(argsOf(COMMAND), {}, allPaths), "/etc/boxinit/boxinit.yaml exists");
  t.equal(whyMiniVm(argsOf(COMMAND), {}, only("/etc/boxinit/finish.d", "/etc/boxinit/init.d")), "/etc/boxinit/init.d exists");
});

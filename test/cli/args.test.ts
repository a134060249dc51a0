import t from "tap";
import { DEFAULT_GRACE_MS, parseInitArgs } from "../../src/cli/args.ts";

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseInitArgs(argv, env);

t.test("defaults and the command after --", async (t) => {
  const result = parse(["--", "sleep", "--grace", "1"]);
  t.ok(result.ok);
  if (!result.ok) return;
  t.same(result.args.command, ["sleep", "--grace", "1"], "options after -- belong to the command");
  t.equal(result.args.graceMs, DEFAULT_GRACE_MS);
  t.equal(result.args.logFormat, "text");
  t.equal(result.args.verbosity, 0);
});

t.test("tini style: the first non-option starts the command", async (t) => {
  const result = parse(["-v", "sleep", "-v"]);
  t.ok(result.ok && result.args.command.join(" ") === "sleep -v" && result.args.verbosity === 1);
});

t.test("options and environment", async (t) => {
  const result = parse(["--grace=2s", "--log-format", "json", "-vv", "--rewrite", "TERM:QUIT", "--remap-exit", "143:0", "--", "x"], { BOXINIT_GRACE: "5s" });
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.args.graceMs, 2000, "the flag beats the environment");
  t.equal(result.args.logFormat, "json");
  t.equal(result.args.verbosity, 2);
  t.equal(result.args.rewrites.get(15), 3);
  t.equal(result.args.remaps.get(143), 0);
  const fromEnv = parse(["--", "x"], { BOXINIT_GRACE: "250ms", BOXINIT_LOG_FORMAT: "json" });
  t.ok(fromEnv.ok && fromEnv.args.graceMs === 250 && fromEnv.args.logFormat === "json");
  const quiet = parse(["-q", "--", "x"]);
  t.ok(quiet.ok && quiet.args.verbosity === -1);
});

t.test("--preserve-fds and BOXINIT_PRESERVE_FDS", async (t) => {
  const flag = parse(["--preserve-fds", "2", "--", "x"], { BOXINIT_PRESERVE_FDS: "1" });
  t.ok(flag.ok && flag.args.preserveFds === 2);
  const env = parse(["--", "x"], { BOXINIT_PRESERVE_FDS: "3" });
  t.ok(env.ok && env.args.preserveFds === 3);
  const bad = parse(["--preserve-fds", "-1", "--", "x"]);
  t.notOk(bad.ok);
  if (!bad.ok) t.match(bad.errors[0], /--preserve-fds: expected a count of file descriptors/);
});

t.test("every problem reported at once", async (t) => {
  const result = parse(["--grace", "soon", "--log-format", "xml", "--bogus", "--rewrite", "NOPE:TERM"], { BOXINIT_GRACE: "forever" });
  t.notOk(result.ok);
  if (result.ok) return;
  t.same(result.errors, [
    'BOXINIT_GRACE: expected a duration such as 250ms, 9s, 5m, got "forever"',
    '--grace: expected a duration such as 250ms, 9s, 5m, got "soon"',
    '--log-format: expected text|json, got "xml"',
    "--bogus: unknown option (see boxinit --help)",
    '--rewrite: expected FROM:TO signal names or numbers (e.g. TERM:QUIT, WINCH:0), got "NOPE:TERM"',
  ]);
});

t.test("--rewrite of a signal boxinit never receives is a usage error (issue 13, rough edge)", async (t) => {
  const result = parse(["--rewrite", "KILL:TERM", "--rewrite", "CHLD:0", "--", "x"]);
  t.notOk(result.ok);
  if (!result.ok) t.same(result.errors.map((error) => error.split(":").slice(0, 2).join(":")), ["--rewrite KILL:TERM", "--rewrite CHLD:0"]);
});

t.test("a missing value is named", async (t) => {
  const result = parse(["--grace"]);
  t.notOk(result.ok);
  if (!result.ok) t.match(result.errors[0], /--grace: expects a value/);
});

t.test("help and version need no command", async (t) => {
  t.ok(parse(["--help"]).ok);
  t.ok(parse(["--version"]).ok);
});

t.test("config and state dir options", async (t) => {
  const result = parse(["--config", "/etc/x.yaml", "--state-dir=/run/box", "--grace", "3s"]);
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.args.configPath, "/etc/x.yaml");
  t.equal(result.args.stateDir, "/run/box");
  t.equal(result.args.isGraceExplicit, true);
  t.same(result.args.command, []);
  const relative = parse(["--state-dir", "docker"]);
  t.notOk(relative.ok);
  if (!relative.ok) t.same(relative.errors, ['--state-dir: expected an absolute path, got "docker"']);
});

t.test("a grace beyond the timer limit is refused, not turned into an instant SIGKILL", async (t) => {
  const result = parse(["--grace", "1000h", "--", "x"]);
  t.notOk(result.ok);
  if (!result.ok) t.same(result.errors, ['--grace: expected a duration up to 596h (the timer limit), got "1000h"']);
  const env = parse(["--", "x"], { BOXINIT_GRACE: "700h" });
  t.notOk(env.ok);
  t.ok(parse(["--grace", "596h", "--", "x"]).ok);
});

// parseJobArgs: `boxinit job NAME [OPTIONS] [-- CMD ARGS...]`, every problem at once.
import t from "tap";
import { parseJobArgs, type JobArgs } from "../../src/cli/job-args.ts";

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseJobArgs(argv, env);

/** The args of a parse that must succeed, or a throw that shows its errors. */
const argsOf = (argv: string[], env: NodeJS.ProcessEnv = {}): JobArgs => {
  const result = parse(argv, env);
  if (!result.ok) throw new Error(`unexpected errors: ${result.errors.join("; ")}`);
  return result.args;
};

const errorsOf = (argv: string[], env: NodeJS.ProcessEnv = {}): string[] => {
  const result = parse(argv, env);
  return result.ok ? [] : result.errors;
};

t.test("name and command: defaults, and options after -- belong to the command", async (t) => {
  t.strictSame(argsOf(["reindex", "--", "/opt/reindex", "--timeout", "1s", "--"]), {
    name: "reindex",
    command: ["/opt/reindex", "--timeout", "1s", "--"],
    waitMs: 0,
    logFormat: "text",
    verbosity: 0,
    showHelp: false,
  });
});

t.test("no command is allowed here (the config's jobs.NAME may have one)", async (t) => {
  t.same(argsOf(["reindex"]).command, []);
  t.same(argsOf(["reindex", "--"]).command, []);
});

t.test("every option, separate and with =", async (t) => {
  const args = argsOf([
    "--timeout", "5m", "--wait=30s", "--on-failure", "curl -d @$BOXINIT_LOG_FILE http://alert", "--state-dir=/srv/state",
    "--config", "/etc/b.yaml", "--grace", "2s", "--log-format=json", "-vv", "nightly", "--", "run",
  ]);
  t.strictSame(args, {
    name: "nightly",
    command: ["run"],
    timeoutMs: 300_000,
    waitMs: 30_000,
    onFailure: ["/bin/sh", "-c", "curl -d @$BOXINIT_LOG_FILE http://alert"],
    stateDir: "/srv/state",
    configPath: "/etc/b.yaml",
    graceMs: 2000,
    logFormat: "json",
    verbosity: 2,
    showHelp: false,
  });
  t.equal(argsOf(["-q", "x"]).verbosity, -1);
  t.equal(argsOf(["-v", "x"]).verbosity, 1);
  t.equal(argsOf(["x", "--timeout", "250ms"]).timeoutMs, 250, "options may follow the name");
});

t.test("BOXINIT_LOG_FORMAT sets the log format; the flag wins", async (t) => {
  t.equal(argsOf(["x"], { BOXINIT_LOG_FORMAT: "json" }).logFormat, "json");
  t.equal(argsOf(["x", "--log-format", "text"], { BOXINIT_LOG_FORMAT: "json" }).logFormat, "text");
  t.equal(argsOf(["x"], { BOXINIT_LOG_FORMAT: "yaml" }).logFormat, "text", "an unknown value in the variable is the default");
});

t.test("the name is required", async (t) => {
  t.same(errorsOf([]), ["expected a job name (boxinit job NAME -- CMD ARGS)"]);
  t.same(errorsOf(["--", "echo", "hi"]), ["expected a job name (boxinit job NAME -- CMD ARGS)"], "the command does not become the name");
  t.same(errorsOf(["--timeout", "1s"]), ["expected a job name (boxinit job NAME -- CMD ARGS)"]);
});

t.test("a second word before -- is refused: the command goes after --", async (t) => {
  t.same(errorsOf(["reindex", "/opt/reindex"]), ['unexpected "/opt/reindex": put the command after -- (boxinit job NAME -- CMD ARGS)']);
});

t.test("bad values and unknown options, all reported at once", async (t) => {
  t.same(errorsOf(["--timeout", "soon", "--wait", "5", "--grace=1y", "--log-format", "xml", "--state-dir", "rel/dir", "--bogus", "x"]), [
    '--timeout: expected a duration such as 30s, 5m, 2h (up to 596h), got "soon"',
    '--wait: expected a duration such as 30s, 5m, 2h (up to 596h), got "5"',
    '--grace: expected a duration such as 30s, 5m, 2h (up to 596h), got "1y"',
    '--log-format: expected text|json, got "xml"',
    '--state-dir: expected an absolute path, got "rel/dir"',
    "--bogus: unknown option (see boxinit job --help)",
  ]);
  t.same(errorsOf(["x", "--timeout", "597h"]), ['--timeout: expected a duration such as 30s, 5m, 2h (up to 596h), got "597h"'], "beyond the timer limit");
  t.same(errorsOf(["x", "--on-failure", "  "]), ["--on-failure: expected a command"]);
  t.same(errorsOf(["x", "--on-failure="]), ["--on-failure: expected a command"]);
});

t.test("--timeout 0 is refused (it would kill the job at once); --wait 0 is the default", async (t) => {
  t.same(errorsOf(["x", "--timeout", "0s"]), ['--timeout: expected a duration above 0, got "0s"']);
  t.equal(argsOf(["x", "--wait", "0s"]).waitMs, 0);
});

t.test("an option missing its value at the end", async (t) => {
  t.same(errorsOf(["x", "--timeout"]), ["--timeout: expects a value"]);
  t.same(errorsOf(["x", "--state-dir"]), ["--state-dir: expects a value"]);
});

t.test("--help and -h: help wins over other problems", async (t) => {
  t.equal(argsOf(["--help"]).showHelp, true);
  t.equal(argsOf(["-h"]).showHelp, true);
  t.equal(argsOf(["--bogus", "--help"]).showHelp, true, "no name and an unknown option, still help");
  t.equal(argsOf(["x", "--", "--help"]).showHelp, false, "after -- it belongs to the command");
});

t.test("a job name over 63 bytes is refused, naming NAME and shortening it", async (t) => {
  t.equal(argsOf(["a".repeat(63), "--", "true"]).name, "a".repeat(63), "63 bytes: accepted");
  t.equal(argsOf(["é".repeat(31), "--", "true"]).name, "é".repeat(31), "62 bytes of two-byte characters: accepted");
  t.same(parseJobArgs(["a".repeat(64), "--", "true"], {}), {
    ok: false,
    errors: [`NAME "${"a".repeat(64).slice(0, 32)}…": a job name is at most 63 bytes (it is part of the failure report's file name), got 64`],
  });
  const long = parseJobArgs(["x".repeat(10_000), "--", "true"], {});
  t.match(long, { ok: false, errors: [/^NAME "x{32}…": a job name is at most 63 bytes .*got 10000$/] });
  t.ok(!long.ok && long.errors[0]!.length < 200, "the message does not repeat the whole name");
  t.match(parseJobArgs(["é".repeat(32), "--", "true"], {}), { ok: false, errors: [/got 64$/] }, "bytes, not characters");
});

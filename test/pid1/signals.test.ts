import t from "tap";
import { HANDLED_SIGNALS, SIGNAL_NAMES, SIGNAL_NUMBERS, SIGNAL_ROUTES, parseRewrites, parseSignal, rewriteSignal, whyNeverRewritten } from "../../src/pid1/signals.ts";

t.test("routes", async (t) => {
  t.equal(SIGNAL_ROUTES.SIGTERM, "shutdown");
  t.equal(SIGNAL_ROUTES.SIGINT, "shutdown");
  t.equal(SIGNAL_ROUTES.SIGQUIT, "shutdown");
  t.equal(SIGNAL_ROUTES.SIGHUP, "forward");
  for (const never of ["SIGCHLD", "SIGKILL", "SIGSTOP"]) {
    t.notOk(HANDLED_SIGNALS.includes(never as NodeJS.Signals), `${never} is not handled`);
  }
  // Issue 14: every other standard signal, the fault-named ones included, is taken.
  const taken = new Set(HANDLED_SIGNALS.map((name) => SIGNAL_NUMBERS[name]));
  for (let number = 1; number <= 31; number++) {
    if (number === 9 || number === 17 || number === 19) continue;
    t.ok(taken.has(number), `${SIGNAL_NAMES[number]} is taken`);
  }
});

t.test("signal names", async (t) => {
  t.equal(parseSignal("TERM"), 15);
  t.equal(parseSignal("SIGTERM"), 15);
  t.equal(parseSignal("sigterm"), 15);
  t.equal(parseSignal("15"), 15);
  t.equal(parseSignal("0"), 0);
  t.equal(parseSignal("NOPE"), undefined);
  t.equal(parseSignal("99"), undefined);
  t.equal(SIGNAL_NAMES[29], "SIGIO", "canonical name for a shared number");
});

t.test("rewrites", async (t) => {
  const { table, errors } = parseRewrites(["TERM:QUIT", "10:12", "WINCH:0"]);
  t.same(errors, []);
  t.equal(rewriteSignal(15, table), 3);
  t.equal(rewriteSignal(10, table), 12);
  t.equal(rewriteSignal(28, table), 0);
  t.equal(rewriteSignal(1, table), 1);
  const bad = parseRewrites(["TERM", "FOO:BAR", "0:TERM", "TERM:QUIT:HUP"]);
  t.equal(bad.errors.length, 4);
  t.match(bad.errors[0], /--rewrite: expected FROM:TO signal names or numbers/);
});

t.test("a rewrite whose source can never be received is refused, naming why (issue 13, rough edge)", async (t) => {
  const { table, errors } = parseRewrites(["KILL:TERM", "CHLD:0", "STOP:CONT", "SEGV:TERM", "SYS:HUP", "PIPE:0", "TTOU:0", "HUP:TERM"]);
  t.same(errors, [
    "--rewrite KILL:TERM: SIGKILL never reaches boxinit's signal routing: it cannot be caught",
    "--rewrite CHLD:0: SIGCHLD never reaches boxinit's signal routing: it tells boxinit's reaper that a child ended; it is never forwarded",
    "--rewrite STOP:CONT: SIGSTOP never reaches boxinit's signal routing: it cannot be caught",
  ]);
  // Issue 14: a fault-named signal, PIPE or TTOU sent by another process is forwarded, so its rewrite applies.
  t.same([...table], [[11, 15], [31, 1], [13, 0], [22, 0], [1, 15]], "every rewrite that can happen is kept");
  t.equal(parseRewrites(["TERM:KILL"]).errors.length, 0, "any signal may be the one sent");
  for (const [name, number] of Object.entries(SIGNAL_NUMBERS)) {
    const isHandled = HANDLED_SIGNALS.some((handled) => SIGNAL_NUMBERS[handled] === number); // SIGPOLL is SIGIO
    t.equal(whyNeverRewritten(number) === undefined, isHandled, `${name}: refused exactly when boxinit has no handler for it`);
  }
});

t.test("the written-out signal table is the platform's", async (t) => {
  const { constants } = await import("node:os");
  const { SIGNAL_NUMBERS } = await import("../../src/pid1/signals.ts");
  t.same(SIGNAL_NUMBERS, constants.signals);
});

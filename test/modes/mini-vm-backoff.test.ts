// idleInBackoff and endIdle (src/modes/mini-vm-backoff.ts) over a fake box:
// the idle spell ends on a release (a fresh run, the box `starting`) or a
// stop (its reason); a release followed by a new "true" in the same turn
// keeps it idle; a stop asked for before the spell ends it at once. The
// binary's side: test/integration/mini-vm-backoff-idle.test.ts.
import t from "tap";
import { endIdle, idleInBackoff } from "../../src/modes/mini-vm-backoff.ts";
import { newRun, type MiniVmSession } from "../../src/modes/mini-vm-run.ts";
import type { Box } from "../../src/supervisor/box.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";

const FILE = "/etc/boxinit-control/backoff";

interface FakeBox {
  box: Box;
  moves: string[];
  cleared: number;
  closed: boolean;
  engaged: boolean;
}

const fakeBox = (): FakeBox => {
  const fake: FakeBox = { moves: [], cleared: 0, closed: false, engaged: true, box: undefined as unknown as Box };
  fake.box = {
    backoff: { isEngaged: () => fake.engaged },
    move: (to: string) => void fake.moves.push(to),
    clearServices: () => void fake.cleared++,
    close: async () => void (fake.closed = true),
    exitCode: undefined,
    get state() {
      return fake.moves.at(-1) ?? "starting";
    },
  } as unknown as Box;
  return fake;
};

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test("a release boots again: a fresh run, services cleared, starting", async (t) => {
  const recorded = recordingLogger();
  const { log } = recorded;
  const fake = fakeBox();
  const first = newRun(log, 1000);
  const session: MiniVmSession = { run: first };
  const idle = idleInBackoff(fake.box, session, FILE, 1000, log);
  await turn();
  t.same(fake.moves, ["backedoff"]);
  t.equal(session.isIdle, true, "idle: a new true is no reason to stop");
  fake.engaged = false;
  session.onReleased?.();
  t.equal(await idle, undefined);
  t.same(fake.moves, ["backedoff", "starting"]);
  t.equal(fake.cleared, 1);
  t.not(session.run, first, "a fresh run for the boot");
  t.equal(session.isIdle, false);
  t.equal(session.onReleased, undefined);
  t.match(recorded.lines.join("\n"), /idle: backoff is engaged \(\/etc\/boxinit-control\/backoff says true\)[^]*backoff released/);
});

t.test("released, then true again in the same turn: still idle", async (t) => {
  const { log } = recordingLogger();
  const fake = fakeBox();
  const session: MiniVmSession = { run: newRun(log, 1000) };
  let isDone = false;
  const idle = idleInBackoff(fake.box, session, FILE, 1000, log).then((reason) => {
    isDone = true;
    return reason;
  });
  await turn();
  session.onReleased?.(); // the watch said false, and by now the file says true again
  await turn();
  t.equal(isDone, false, "still idle");
  t.same(fake.moves, ["backedoff"]);
  fake.engaged = false;
  session.onReleased?.();
  t.equal(await idle, undefined);
  t.same(fake.moves, ["backedoff", "starting"]);
});

t.test("a stop while idle ends it with its reason; endIdle exits backedoff 0, or failed 70 on a fault", async (t) => {
  const { log } = recordingLogger();
  const fake = fakeBox();
  const session: MiniVmSession = { run: newRun(log, 1000) };
  const idle = idleInBackoff(fake.box, session, FILE, 1000, log);
  await turn();
  session.run.requestStop({ kind: "signal", signal: 15 });
  const reason = await idle;
  t.same(reason, { kind: "signal", signal: 15 });
  t.equal(fake.cleared, 0, "nothing booted");
  t.equal(await endIdle(fake.box, reason!, new Map(), log), 0);
  t.same(fake.moves, ["backedoff", "backedoff"]);
  t.ok(fake.closed);

  const faulty = fakeBox();
  t.equal(await endIdle(faulty.box, { kind: "fault" }, new Map(), log), 70);
  t.same(faulty.moves, ["failed"]);
});

t.test("a stop asked for before the idle spell ends it at once", async (t) => {
  const { log } = recordingLogger();
  const fake = fakeBox();
  const session: MiniVmSession = { run: newRun(log, 1000) };
  session.run.requestStop({ kind: "signal", signal: 2 });
  t.same(await idleInBackoff(fake.box, session, FILE, 1000, log), { kind: "signal", signal: 2 });
  t.same(fake.moves, [], "no move: the caller ends the box");
});

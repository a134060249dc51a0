// The one signal router of the PID 1 runs (src/modes/runtime.ts), in-process
// with a fake addon: what reaches the run's stop and forward, after --rewrite,
// for the tini-style shape (the handler forwarded some) and the shape of
// Mini-VM mode and the job (the stop takes every stop signal). The runs on the
// binary: test/integration/signals*.test.ts.
import t from "tap";
import { onFault, routeSignals, type FaultHandle, type Pid1, type SignalIntake, type SignalRoutes } from "../../src/modes/runtime.ts";
import { parseRewrites, SIGNAL_NUMBERS } from "../../src/pid1/signals.ts";
import type { Native } from "../../src/native/addon.ts";
import type { Reaper } from "../../src/pid1/reaper.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";

const TERM = SIGNAL_NUMBERS.SIGTERM!;
const HUP = SIGNAL_NUMBERS.SIGHUP!;
const QUIT = SIGNAL_NUMBERS.SIGQUIT!;
const USR1 = SIGNAL_NUMBERS.SIGUSR1!;

const intake = (signal: number, received: number, forwarded = 0): SignalIntake =>
  ({ signal, received, forwarded, sender: 0, code: 0, forwardError: undefined });

// A fake addon whose intake hands the router's listener to the test.
const fakePid1 = (): { pid1: Pid1; deliver: (taken: SignalIntake) => void } => {
  let listener: ((taken: SignalIntake) => void) | undefined;
  const native = { takeSignals: () => {}, listenSignals: (handle: (taken: SignalIntake) => void) => (listener = handle) } as unknown as Native;
  return { pid1: { native, reaper: {} as Reaper, scope: "descendants" }, deliver: (taken) => listener!(taken) };
};

interface Heard {
  stops: Array<[number, number]>;
  forwards: Array<[number, number, number]>;
}

const route = (rewrites: string[], takeOnStop: (taken: SignalIntake) => number): { heard: Heard; deliver: (taken: SignalIntake) => void; lines: () => string[] } => {
  const { pid1, deliver } = fakePid1();
  const recorded = recordingLogger();
  const heard: Heard = { stops: [], forwards: [] };
  const routes: SignalRoutes = {
    rewrites: parseRewrites(rewrites).table,
    stop: (sent, taken) => {
      heard.stops.push([sent, taken.received]);
      return takeOnStop(taken);
    },
    forward: (sent, times, taken) => {
      heard.forwards.push([sent, times, taken.forwarded]);
    },
  };
  routeSignals(pid1, recorded.log, routes);
  return { heard, deliver, lines: () => recorded.lines };
};

t.test("a stop signal goes to stop; what stop does not take is forwarded", async (t) => {
  const { heard, deliver } = route([], () => 1);
  deliver(intake(TERM, 3));
  t.same(heard.stops, [[TERM, 3]]);
  t.same(heard.forwards, [[TERM, 2, 0]], "the first is the stop's, two more are forwarded");
});

t.test("a run that takes every stop signal forwards none of them", async (t) => {
  const { heard, deliver } = route([], (taken) => taken.received);
  deliver(intake(QUIT, 2));
  t.same(heard.stops, [[QUIT, 2]]);
  t.same(heard.forwards, []);
});

t.test("other signals are forwarded as often as they came, not sent to stop", async (t) => {
  const { heard, deliver } = route([], () => t.fail("no stop") as unknown as number);
  deliver(intake(HUP, 2));
  t.same(heard.forwards, [[HUP, 2, 0]]);
});

t.test("those the intake's handler forwarded itself are not sent again, but forward hears of them", async (t) => {
  const { heard, deliver } = route([], () => 0);
  deliver(intake(USR1, 2, 2));
  t.same(heard.forwards, [[USR1, 0, 2]]);
  deliver(intake(TERM, 1, 1));
  t.same(heard.stops, [[TERM, 1]], "a stop signal the handler sent still starts the stop");
  t.same(heard.forwards.at(-1), [TERM, 0, 1]);
});

t.test("--rewrite: the run gets the rewritten signal; a stop signal stays a stop; 0 drops it with a debug line", async (t) => {
  const { heard, deliver, lines } = route(["TERM:QUIT", "HUP:0", "USR1:TERM"], () => 1);
  deliver(intake(TERM, 1));
  t.same(heard.stops, [[QUIT, 1]], "TERM, rewritten to QUIT, still asks for the stop");
  deliver(intake(HUP, 1));
  t.same(heard.forwards, [], "HUP rewritten to 0 goes nowhere");
  t.match(lines().join("\n"), /signal-dropped.*signal=SIGHUP/);
  deliver(intake(USR1, 1));
  t.same(heard.forwards, [[TERM, 1, 0]], "USR1 sent on as TERM, not a stop: its route is the received signal's");
});

t.test("onFault hands main.ts the stop and the budget", async (t) => {
  const faults: FaultHandle = {};
  let stopped = 0;
  onFault(faults, 4000, () => stopped++);
  t.equal(faults.graceMs, 4000);
  faults.onFault?.();
  t.equal(stopped, 1);
});

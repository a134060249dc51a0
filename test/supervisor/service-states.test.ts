import t from "tap";
import { SERVICE_TRANSITIONS, isFinalServiceState, nextServiceState, type ServiceState } from "../../src/supervisor/service-states.ts";

t.test("allowed changes", async (t) => {
  t.equal(nextServiceState("pending", "start", "starting"), "starting");
  t.equal(nextServiceState("starting", "spawned", "warming"), "warming");
  t.equal(nextServiceState("warming", "warmup-passed", "running"), "running");
  t.equal(nextServiceState("running", "exited", "restarting"), "restarting");
  t.equal(nextServiceState("restarting", "restart-due", "starting"), "starting");
  t.equal(nextServiceState("starting", "deferred", "restarting"), "restarting", "not started for want of fds: waits to try again");
  t.equal(nextServiceState("running", "stop", "stopping"), "stopping");
  t.equal(nextServiceState("stopping", "stop-done", "stopped"), "stopped");
});

t.test("changes the table refuses", async (t) => {
  t.equal(nextServiceState("running", "warmup-passed", "running"), undefined, "a second warm-up pass while running");
  t.equal(nextServiceState("stopped", "start", "starting"), undefined, "no start after a stop");
  t.equal(nextServiceState("stopping", "exited", "restarting"), undefined, "no restart while stopping");
  t.equal(nextServiceState("pending", "exited", "failed"), undefined);
  t.equal(nextServiceState("starting", "deferred", "failed"), undefined, "a shortage of boxinit's resources never fails the service");
  t.equal(nextServiceState("running", "deferred", "restarting"), undefined, "only a start can be deferred");
});

t.test("final states accept at most a stop, which keeps them", async (t) => {
  const finalStates = (Object.keys(SERVICE_TRANSITIONS) as ServiceState[]).filter(isFinalServiceState);
  t.same(finalStates, ["stopped", "exited", "failed"], "exactly these are final");
  for (const state of finalStates) {
    const expected = state === "stopped" ? {} : { stop: [state] };
    t.same(SERVICE_TRANSITIONS[state], expected, `${state}: ${JSON.stringify(expected)}`);
  }
  t.notOk(isFinalServiceState("restarting"));
});

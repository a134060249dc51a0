// The tini-style box's state table and how it ends (src/control/command-box-states.ts).
import t from "tap";
import { endEvent, nextCommandBoxState } from "../../src/control/command-box-states.ts";

t.test("the moves a run makes", async (t) => {
  t.equal(nextCommandBoxState("starting", "spawned"), "running");
  t.equal(nextCommandBoxState("starting", "not-started"), "failed", "126/127: nothing ran");
  t.equal(nextCommandBoxState("running", "stop"), "stopping");
  t.equal(nextCommandBoxState("stopping", "ended-stopped"), "stopped");
  t.equal(nextCommandBoxState("stopping", "ended-backedoff"), "backedoff");
  t.equal(nextCommandBoxState("stopping", "ended-failed"), "failed");
});

t.test("moves not in the table are undefined (logged as a bug by the box)", async (t) => {
  t.equal(nextCommandBoxState("running", "ended-stopped"), undefined, "an end without the stop");
  t.equal(nextCommandBoxState("stopped", "stop"), undefined, "nothing after a final state");
  t.equal(nextCommandBoxState("starting", "stop"), undefined);
  t.equal(nextCommandBoxState("degraded", "spawned"), undefined, "Mini-VM states are not this box's");
});

t.test("how the box ends", async (t) => {
  t.equal(endEvent("requested", 143, false), "ended-stopped", "docker stop: stopped, with the command's 143");
  t.equal(endEvent("requested", 0, false), "ended-stopped");
  t.equal(endEvent("backoff", 143, false), "ended-backedoff", "backoff: backedoff whatever the code");
  t.equal(endEvent("command-ended", 0, false), "ended-stopped", "the command ended with 0");
  t.equal(endEvent("command-ended", 3, false), "ended-failed", "the command ended non-zero on its own");
  t.equal(endEvent("command-ended", 137, false), "ended-failed", "killed from outside (OOM)");
  t.equal(endEvent("requested", 70, true), "ended-failed", "a fault inside boxinit");
  t.equal(endEvent("backoff", 0, true), "ended-failed", "a fault wins over backoff");
});

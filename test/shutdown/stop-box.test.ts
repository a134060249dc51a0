import t from "tap";
import { boxReserveMs, laterServiceSliceMs } from "../../src/shutdown/stop-box.ts";

t.test("the reserve after the services: min(2 s, grace/4)", async (t) => {
  t.equal(boxReserveMs(9000), 2000);
  t.equal(boxReserveMs(4000), 1000);
});

t.test("each later service keeps a slice of the services' budget", async (t) => {
  t.equal(laterServiceSliceMs(7000, 1), 0, "one service may use everything");
  t.equal(laterServiceSliceMs(7000, 2), 1000, "capped at 1 s");
  t.equal(laterServiceSliceMs(3000, 2), 750, "half an equal share");
  t.equal(laterServiceSliceMs(-5, 3), 0, "no budget left: nothing to keep");
});

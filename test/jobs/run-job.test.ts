// The pure part of the job harness (src/jobs/run-job.ts): the lock's file
// name. How a run's end is judged: verdict.test.ts; the harness on the real
// binary: test/integration/job*.test.ts.
import t from "tap";
import { lockFileName } from "../../src/jobs/run-job.ts";

t.test("lock file names: plain names as they are, changed ones with a hash of the real name", async (t) => {
  t.equal(lockFileName("nightly"), "nightly");
  t.match(lockFileName("../x"), /^_x-[0-9a-f]{8}$/);
  t.not(lockFileName("../x"), lockFileName("_x"), "../x and _x do not share a lock");
  t.not(lockFileName("../x"), lockFileName(".x"));
  t.equal(lockFileName("../x"), lockFileName("../x"), "stable");
  t.notMatch(lockFileName("a/b"), /\//);
});

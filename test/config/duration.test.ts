import t from "tap";
import { formatDurationMs, parseDurationMs } from "../../src/config/duration.ts";

t.test("durations users write", async (t) => {
  t.equal(parseDurationMs("250ms"), 250);
  t.equal(parseDurationMs("9s"), 9000);
  t.equal(parseDurationMs("5m"), 300_000);
  t.equal(parseDurationMs("1h"), 3_600_000);
  t.equal(parseDurationMs("30d"), 30 * 86_400_000);
  t.equal(parseDurationMs("1m30s"), 90_000);
  t.equal(parseDurationMs("1.5s"), 1500);
  t.equal(parseDurationMs(" 2s "), 2000);
});

t.test("not durations", async (t) => {
  for (const text of ["", "9", "s", "9 s", "9sec", "-1s", "1s2", "soon", "1w"]) {
    t.equal(parseDurationMs(text), undefined, JSON.stringify(text));
  }
});

t.test("formatting for the log", async (t) => {
  t.equal(formatDurationMs(250), "250ms");
  t.equal(formatDurationMs(9000), "9s");
  t.equal(formatDurationMs(1500), "1.5s");
});

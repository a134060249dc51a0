import t from "tap";
import { isoTime } from "../../src/time/iso-time.ts";

// The one rule: the same text as toISOString, for every time.
const LAST_FOUR_DIGIT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

t.test("the edges of the calendar read as toISOString reads them", async (t) => {
  const edges = [
    0, 1, 999, 1000, 59_999, 86_399_999, 86_400_000,
    Date.UTC(1972, 1, 29), Date.UTC(1972, 2, 1) - 1, Date.UTC(1999, 11, 31, 23, 59, 59, 999),
    Date.UTC(2000, 1, 29, 12), Date.UTC(2000, 2, 1), Date.UTC(2100, 1, 28, 23, 59, 59, 999), Date.UTC(2100, 2, 1),
    Date.UTC(2400, 1, 29), Date.UTC(2026, 11, 2, 17, 46, 6, 123), LAST_FOUR_DIGIT_MS,
  ];
  for (const ms of edges) t.equal(isoTime(ms), new Date(ms).toISOString(), `ms ${ms}`);
});

t.test("every day from 1970 to 2500 at a random time of day", async (t) => {
  const differing: string[] = [];
  for (let day = 0; day < 194_000; day++) {
    const ms = day * 86_400_000 + Math.floor(Math.random() * 86_400_000);
    if (isoTime(ms) !== new Date(ms).toISOString()) differing.push(`${ms}: ${isoTime(ms)}`);
  }
  t.same(differing.slice(0, 5), [], `${differing.length} of 194,000 days differ`);
});

t.test("random times up to year 9999", async (t) => {
  const differing: string[] = [];
  for (let i = 0; i < 200_000; i++) {
    const ms = Math.floor(Math.random() * (LAST_FOUR_DIGIT_MS + 1));
    if (isoTime(ms) !== new Date(ms).toISOString()) differing.push(`${ms}: ${isoTime(ms)}`);
  }
  t.same(differing.slice(0, 5), [], `${differing.length} of 200,000 differ`);
});

t.test("outside four-digit years, fractions, and no time: toISOString's own answer", async (t) => {
  for (const ms of [-1, -86_400_001, LAST_FOUR_DIGIT_MS + 1, 8.64e15, 1.5, 1e12 + 0.25]) {
    t.equal(isoTime(ms), new Date(ms).toISOString(), `ms ${ms}`);
  }
  t.throws(() => isoTime(Number.NaN), RangeError);
  t.throws(() => isoTime(8.64e15 + 1), RangeError);
});

t.test("now by default", async (t) => {
  const before = Date.now();
  const now = Date.parse(isoTime());
  t.ok(now >= before && now <= Date.now(), "isoTime() is the time of the call");
});

import t, { type Test } from "tap";
import { MAX_NAME_PART, REPORT_NAME_PATTERN, isoSeconds, parseReportTime, reportFileName, sanitizeNamePart } from "../../src/jobs/report-name.ts";

const AT = new Date("2026-11-26T07:55:16.789Z");

// What every generated name must be: one plain, visible file name.
const assertSafe = (t: Test, name: string, label: string): void => {
  t.notOk(name.includes("/"), `${label}: no slash`);
  t.notOk(name.includes("\0"), `${label}: no NUL`);
  t.notOk(/[\u0000-\u001f\u007f-\u009f]/.test(name), `${label}: no control characters`);
  t.notOk(name === "." || name === ".." || name.startsWith("."), `${label}: not . or .. or hidden`);
  t.ok(Buffer.byteLength(name) < 255, `${label}: under NAME_MAX`);
  t.match(name, REPORT_NAME_PATTERN, `${label}: matches the pattern`);
  t.same(parseReportTime(name), new Date("2026-11-26T07:55:16Z"), `${label}: time parses back`);
};

t.test("the seed's example", async (t) => {
  t.equal(reportFileName(AT, "reindex", 3, "web01"), "2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01");
});

t.test("ISO-8601 UTC to the second", async (t) => {
  t.equal(isoSeconds(AT), "2026-11-26T07:55:16Z", "milliseconds truncated, not rounded");
  t.equal(isoSeconds(new Date(0)), "1970-01-01T00:00:00Z");
  t.equal(isoSeconds(new Date("2026-11-26T08:55:16+01:00")), "2026-11-26T07:55:16Z", "always UTC");
  t.throws(() => isoSeconds(new Date(Number.NaN)), RangeError);
});

t.test("sanitising name parts", async (t) => {
  const table: Array<[string, string]> = [
    ["reindex", "reindex"],
    ["nightly.backup_v2-full", "nightly.backup_v2-full"],
    ["../x", "_x"],
    ["a/b", "a_b"],
    ["a\nb", "a_b"],
    ["tab\there", "tab_here"],
    ["nul\u0000byte", "nul_byte"],
    ["esc\u001b[31m", "esc__31m"],
    ["", "job"],
    [".", "job"],
    ["..", "job"],
    ["...", "job"],
    [".hidden", "hidden"],
    ["..x..", "x.."],
    ["with space", "with_space"],
    ["café", "caf_"],
    ["😀", "_"],
    ["a\\b", "a_b"],
    ["-lead", "-lead"],
  ];
  for (const [raw, want] of table) t.equal(sanitizeNamePart(raw, "job"), want, JSON.stringify(raw));
  t.equal(sanitizeNamePart("x".repeat(300), "job"), "x".repeat(MAX_NAME_PART), "capped at 64");
  t.equal(sanitizeNamePart(`${".".repeat(70)}abc`, "job"), "abc", "dots stripped before the cap");
});

t.test("hostile names and hostnames: one safe file name", async (t) => {
  const hostile = ["../x", "a/b", "\n", "", "..", ".", "x".repeat(300), "/etc/passwd", "../../..", "\u0000", "é".repeat(200)];
  for (const raw of hostile) {
    const label = JSON.stringify(raw.length > 20 ? `${raw.slice(0, 20)}…` : raw);
    assertSafe(t, reportFileName(AT, raw, 1, "web01"), `name ${label}`);
    assertSafe(t, reportFileName(AT, "job", 1, raw), `host ${label}`);
  }
  t.equal(reportFileName(AT, "../x", 3, "a/b"), "2026-11-26T07:55:16Z-cron-failure-_x-exit-3-a_b");
  t.equal(reportFileName(AT, "", 3, ""), "2026-11-26T07:55:16Z-cron-failure-job-exit-3-unknown-host");
  t.equal(reportFileName(AT, "..", 3, ".."), "2026-11-26T07:55:16Z-cron-failure-job-exit-3-unknown-host");
  const longest = reportFileName(AT, "n".repeat(300), 255, "h".repeat(300));
  t.equal(longest.length, 172, "the longest possible name");
});

t.test("exit codes: 0..255, clamped", async (t) => {
  const table: Array<[number, string]> = [
    [0, "0"],
    [3, "3"],
    [124, "124"],
    [137, "137"],
    [255, "255"],
    [256, "255"],
    [-1, "0"],
    [3.7, "3"],
    [Number.NaN, "255"],
    [Number.POSITIVE_INFINITY, "255"],
  ];
  for (const [code, want] of table) {
    const name = reportFileName(AT, "j", code, "h");
    t.equal(name, `2026-11-26T07:55:16Z-cron-failure-j-exit-${want}-h`, `exit ${code}`);
    t.match(name, REPORT_NAME_PATTERN);
  }
});

t.test("the pattern: ours only", async (t) => {
  const ours = [
    "2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01",
    "2026-11-26T07:55:16Z-cron-failure-x-exit-0-h",
    "2026-11-26T07:55:16Z-cron-failure-a-exit-2-b-exit-3-c",
    // The hostname "h.tmp" is legal; the writer's own temp files start with a dot.
    "2026-11-26T07:55:16Z-cron-failure-x-exit-3-h.tmp",
  ];
  for (const name of ours) t.match(name, REPORT_NAME_PATTERN, name);
  const foreign = [
    "notes.txt",
    "",
    ".2026-11-26T07:55:16Z-cron-failure-x-exit-3-h.123.abcdefgh.tmp",
    "2026-11-26T07:55:16.789Z-cron-failure-x-exit-3-h",
    "2026-11-26T07:55:16Z-cron-failure--exit-3-h",
    "2026-11-26T07:55:16Z-cron-failure-x-exit-3-",
    "2026-11-26T07:55:16Z-cron-failure-.x-exit-3-h",
    "2026-11-26T07:55:16Z-cron-failure-x-exit-3-.h",
    "2026-11-26T07:55:16Z-cron-failure-x-exit-256-h",
    "2026-11-26T07:55:16Z-cron-failure-x-exit-03-h",
    "2026-11-26T07:55:16Z-cron-failure-x-exit--1-h",
    "2026-11-26T07:55:16Z-cron-failure-x-exit-3-h/..",
    "2026-11-26T07:55:16Z-cron-failure-x-exit-3-h\n",
    `2026-11-26T07:55:16Z-cron-failure-${"x".repeat(65)}-exit-3-h`,
    `2026-11-26T07:55:16Z-cron-failure-x-exit-3-${"h".repeat(65)}`,
    "2026-11-26T07:55:16Z-job-failure-x-exit-3-h",
    "+010000-01-01T00:00:00Z-cron-failure-x-exit-3-h",
    "x2026-11-26T07:55:16Z-cron-failure-x-exit-3-h",
  ];
  for (const name of foreign) {
    t.notMatch(name, REPORT_NAME_PATTERN, JSON.stringify(name));
    t.equal(parseReportTime(name), undefined, JSON.stringify(name));
  }
});

t.test("the time encoded in a name", async (t) => {
  t.same(parseReportTime("2026-11-26T07:55:16Z-cron-failure-reindex-exit-3-web01"), new Date("2026-11-26T07:55:16Z"));
  t.same(parseReportTime(reportFileName(new Date(0), "j", 1, "h")), new Date(0));
  for (const impossible of ["2026-02-30T00:00:00Z", "2026-11-26T24:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26T23:59:60Z", "2026-00-10T00:00:00Z"]) {
    t.equal(parseReportTime(`${impossible}-cron-failure-x-exit-3-h`), undefined, impossible);
  }
});

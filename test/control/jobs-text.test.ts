// PID 1 carries status.json's `jobs` over as text (control/jobs-text.ts): the
// text is what serialising the whole document gives, byte for byte, hostile
// content included; it is reused only while status.json holds exactly what
// PID 1 last wrote (no parse then), and any other content is read and parsed
// again: another writer's records kept, a garbled file kept aside as before.
import t, { type Test } from "tap";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StatusFile, serializeStatus, type StatusSnapshot } from "../../src/control/status-file.ts";
import { headText, jobsTail } from "../../src/control/jobs-text.ts";
import { updateJobRecord } from "../../src/jobs/job-status.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { bigDocument } from "../helpers/status-documents.ts";

const snapshot = (state: StatusSnapshot["state"] = "running"): StatusSnapshot => ({
  state, since: "2026-11-26T10:00:00.000Z", pid: 1, version: "0.1.0", backoff: false, heartbeatMs: 30_000,
  services: { web: { state: "running", pid: 42, restarts: 0, lastExit: null, readyAt: null } },
});

// Parsed from text: what a hostile status.json can hold once parsed.
const HOSTILE_JOBS = JSON.parse(String.raw`{
  "__proto__": { "polluted": true },
  "123": { "runs": 1 },
  "a\n    \"b\": {": { "text": "line\nbreak \"quoted\" \\ \u0000 \u2028 é 😀 \ud800" },
  "huge": 1e400, "tiny": -0, "big": 12345678901234567890,
  "nested": { "list": [[], {}, [1, [2, { "x": null }]]], "empty": {} },
  "dup": 1, "dup": 2
}`) as Record<string, unknown>;

const parseCount = (t: Test): { readonly count: number } => {
  const real = JSON.parse;
  const counter = { count: 0 };
  JSON.parse = ((text: string, reviver?: (key: string, value: unknown) => unknown) => {
    counter.count++;
    return real(text, reviver);
  }) as typeof JSON.parse;
  t.teardown(() => {
    JSON.parse = real;
  });
  return counter;
};

t.test("the spliced text is JSON.stringify of the whole document, byte for byte", async (t) => {
  for (const jobs of [undefined, {}, { one: {} }, HOSTILE_JOBS, bigDocument(3).jobs]) {
    const full = { schemaVersion: 1, state: "running", jobs: jobs ?? {} };
    t.equal(headText({ schemaVersion: 1, state: "running" }) + jobsTail(jobs), `${JSON.stringify(full, null, 2)}\n`);
  }
  const text = serializeStatus(snapshot(), "2026-11-26T10:01:00.000Z", HOSTILE_JOBS);
  t.same((JSON.parse(text) as Record<string, unknown>).jobs, JSON.parse(JSON.stringify(HOSTILE_JOBS)), "the jobs as parsed");
});

t.test("a heartbeat over an unchanged status.json reuses the jobs text: no parse, the same records", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "status.json"), JSON.stringify({ schemaVersion: 1, jobs: HOSTILE_JOBS }));
  const { log } = recordingLogger();
  const file = new StatusFile(dir, log, { heartbeatMs: 60_000 });
  t.teardown(() => file.close());
  file.write(snapshot());
  const first = readFileSync(join(dir, "status.json"), "utf8");
  const parses = parseCount(t);
  file.write(snapshot("stopping"));
  t.equal(parses.count, 0, "status.json holds what PID 1 wrote: not parsed again");
  const second = readFileSync(join(dir, "status.json"), "utf8");
  t.equal(second.slice(second.indexOf('\n  "jobs": ')), first.slice(first.indexOf('\n  "jobs": ')), "the jobs text, byte for byte");
  t.match(JSON.parse(second), { state: "stopping" });
});

t.test("status.json changed by someone else is read and parsed again", async (t) => {
  const dir = tempDir(t);
  const { log } = recordingLogger();
  const file = new StatusFile(dir, log, { heartbeatMs: 60_000 });
  t.teardown(() => file.close());
  file.write(snapshot());
  t.equal(updateJobRecord(dir, "nightly", undefined, log, (previous) => ({ ...previous, runs: previous.runs + 1 })), true);
  file.write(snapshot());
  t.match(JSON.parse(readFileSync(join(dir, "status.json"), "utf8")).jobs, { nightly: { runs: 1 } }, "a job run's record kept");

  // Edited in place to the same size: only the content tells.
  const text = readFileSync(join(dir, "status.json"), "utf8");
  t.ok(text.includes('"runs": 1,'));
  writeFileSync(join(dir, "status.json"), text.replace('"runs": 1,', '"runs": 7,'));
  const parses = parseCount(t);
  file.write(snapshot());
  t.ok(parses.count > 0, "parsed again");
  t.match(JSON.parse(readFileSync(join(dir, "status.json"), "utf8")).jobs, { nightly: { runs: 7 } }, "the edit kept");
});

t.test("a garbled status.json after PID 1's write is kept aside as before, and a fresh one written", async (t) => {
  const dir = tempDir(t);
  const recorded = recordingLogger();
  const { log } = recorded;
  const file = new StatusFile(dir, log, { heartbeatMs: 60_000 });
  t.teardown(() => file.close());
  writeFileSync(join(dir, "status.json"), JSON.stringify({ jobs: { nightly: { runs: 3 } } }));
  file.write(snapshot());
  const written = readFileSync(join(dir, "status.json"), "utf8");
  // Cut short, and one character replaced by a raw NUL (not allowed in a JSON string): neither is what PID 1 wrote.
  const garbled = [written.slice(0, -3), `${written.slice(0, 10)}\u0000${written.slice(11)}`];
  for (const text of garbled) {
    writeFileSync(join(dir, "status.json"), text);
    file.write(snapshot());
    t.same(JSON.parse(readFileSync(join(dir, "status.json"), "utf8")).jobs, {}, "a fresh document");
  }
  t.equal(readdirSync(dir).filter((name) => name.startsWith("status.json.bad-")).length, 2, "each kept aside");
  t.equal(recorded.at("warn").filter((line) => line.includes("existing status.json cannot be used")).length, 2, "and logged");
});

import t from "tap";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statusCommand } from "../../src/modes/side.ts";
import { formatStatus } from "../../src/control/status-format.ts";
import { StatusFile } from "../../src/control/status-file.ts";
import { MAX_STATUS_JSON_BYTES } from "../../src/control/status-document.ts";
import { captureIo, NOW } from "../helpers/command-io.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { bigDocument } from "../helpers/status-documents.ts";

const document = {
  schemaVersion: 1,
  state: "running",
  since: "2026-11-26T10:00:00.000Z",
  updatedAt: "2026-11-26T10:09:48.000Z",
  pid: 1,
  version: "0.1.0",
  backoff: false,
  services: {
    confluence: { state: "running", pid: 123, restarts: 2, lastExit: { code: 1, signal: null, at: "2026-11-26T09:59:00.000Z" }, readyAt: "2026-11-26T10:02:00.000Z" },
    shipper: { state: "starting", pid: null, restarts: 0, lastExit: null, readyAt: null },
  },
  jobs: {},
};

const writeStatus = (dir: string, value: unknown): void => writeFileSync(join(dir, "status.json"), typeof value === "string" ? value : JSON.stringify(value, null, 2));

t.test("human view", async (t) => {
  const dir = tempDir(t);
  writeStatus(dir, document);
  const io = captureIo();
  t.equal(statusCommand([], dir, io), 0);
  t.equal(io.err, "");
  t.equal(
    io.out,
    [
      "state:     running since 2026-11-26T10:00:00.000Z (10m 0s)",
      "updated:   12s ago",
      "pid:       1",
      "version:   0.1.0",
      "backoff:   not engaged",
      "services:",
      "  confluence  running  pid 123  restarts 2  last exit: code 1 at 2026-11-26T09:59:00.000Z  ready at 2026-11-26T10:02:00.000Z",
      "  shipper     starting  pid -  restarts 0  last exit: none  ready at -",
      "",
    ].join("\n"),
  );
});

t.test("final state, exit code, signal, backoff, stale heartbeat", async (t) => {
  const stopped = {
    ...document,
    state: "backedoff",
    updatedAt: "2026-11-26T10:05:00.000Z",
    backoff: true,
    exitCode: 143,
    services: { web: { state: "stopped", pid: null, restarts: 0, lastExit: { code: null, signal: "SIGTERM", at: "2026-11-26T10:04:59.000Z" }, readyAt: null } },
  };
  const text = formatStatus(stopped, NOW);
  t.match(text, /^state: {5}backedoff since/m);
  t.match(text, /^updated: {3}5m 0s ago$/m, "a final state is never stale: nothing more is written after it");
  t.match(text, /^backoff: {3}engaged$/m);
  t.match(text, /^exit code: 143$/m);
  t.match(text, /last exit: signal SIGTERM at 2026-11-26T10:04:59.000Z/);
  t.notMatch(formatStatus(document, NOW), /stale|exit code/);
  t.match(formatStatus({ ...document, updatedAt: "2026-11-26T10:08:31.000Z" }, NOW), /updated: {3}1m 29s ago\n/, "fresh up to 90 s");
  t.match(formatStatus({ ...document, updatedAt: "2026-11-26T10:08:29.000Z" }, NOW), /^updated: {3}1m 31s ago \(stale: no heartbeat for over 1m 30s; boxinit may be frozen or gone\)$/m);
  t.notMatch(formatStatus({ ...document, heartbeatMs: 120_000, updatedAt: "2026-11-26T10:08:29.000Z" }, NOW), /stale/, "three of the writer's own 2m heartbeats");
  t.match(formatStatus({ ...document, heartbeatMs: 10_000, updatedAt: "2026-11-26T10:09:29.000Z" }, NOW), /31s ago \(stale: no heartbeat for over 30s/);
  t.match(formatStatus({ ...document, updatedAt: "2026-11-26T11:10:00.000Z" }, NOW), /^updated: {3}1h 0m in the future \(stale: the clock was set back since it was written, or boxinit did not write it\)$/m, "a heartbeat from the future is no heartbeat");
  t.match(formatStatus({ ...document, services: {} }, NOW), /^services: {2}none$/m);
});

t.test("values from the file cannot drive the terminal", async (t) => {
  const text = formatStatus({ ...document, state: "running\u001b[2J", services: { "evil\nname": { state: "x\u0007" } } }, NOW);
  t.notMatch(text, /\u001b|\u0007/);
  t.match(text, /running\\x1b\[2J/);
  t.match(text, /evil\\nname {2}x\\x07/);
});

t.test("--json prints status.json verbatim", async (t) => {
  const dir = tempDir(t);
  const text = `${JSON.stringify(document, null, 4)}\n`;
  writeStatus(dir, text);
  const io = captureIo();
  t.equal(statusCommand(["--json"], dir, io), 0);
  t.equal(io.out, text);
});

t.test("what StatusFile writes is what status reads", async (t) => {
  const dir = tempDir(t);
  const file = new StatusFile(dir, recordingLogger().log, { heartbeatMs: 60_000 });
  file.write({ state: "warming", since: new Date().toISOString(), pid: 1, version: "0.1.0", backoff: false, heartbeatMs: 60_000, services: {} });
  file.close();
  const io = captureIo(Date.now());
  t.equal(statusCommand([], dir, io), 0);
  t.match(io.out, /^state: {5}warming since .* \(0s\)\nupdated: {3}0s ago\n/);
});

t.test("no status: exit 3 with a hint", async (t) => {
  const dir = tempDir(t);
  const io = captureIo();
  t.equal(statusCommand([], dir, io), 3);
  t.equal(io.out, "");
  t.equal(io.err, `boxinit status: no status in ${dir} (is boxinit running with --state-dir ${dir}?)\n`);
  const missingDir = join(dir, "nope");
  const io2 = captureIo();
  t.equal(statusCommand(["--json"], missingDir, io2), 3);
  t.match(io2.err, /no status in .*nope/);
});

t.test("thousands of job records over the old 1 MiB cap are listed, every one", async (t) => {
  const dir = tempDir(t);
  const big = bigDocument(2200);
  writeStatus(dir, JSON.stringify({ ...document, jobs: big.jobs }, null, 2));
  const io = captureIo();
  t.equal(statusCommand([], dir, io), 0, io.err);
  t.equal(io.out.split("\n").filter((line) => /^ {2}job-\d{5}-/.test(line)).length, 2200);
});

t.test("unreadable or invalid: exit 3", async (t) => {
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ["torn JSON", (dir) => writeStatus(dir, '{"state": "run'), /status\.json: not valid JSON/],
    ["not an object", (dir) => writeStatus(dir, "[1, 2]"), /not a JSON object/],
    ["no state", (dir) => writeStatus(dir, '{"pid": 1}'), /not a boxinit status: no "state"/],
    ["a directory", (dir) => mkdirSync(join(dir, "status.json")), /status\.json: cannot read: .*not a regular file/],
    ["over the cap", (dir) => writeStatus(dir, `{"state": "running", "pad": "${" ".repeat(MAX_STATUS_JSON_BYTES)}"}`), /status\.json: larger than 16777216 bytes, the most that is read/],
  ];
  for (const [name, prepare, message] of cases) {
    const dir = tempDir(t);
    prepare(dir);
    for (const args of [[], ["--json"]]) {
      const io = captureIo();
      t.equal(statusCommand(args, dir, io), 3, `${name} ${args.join(" ")}`);
      t.match(io.err, message, name);
      t.equal(io.out, "");
    }
  }
});

t.test("usage", async (t) => {
  const io = captureIo();
  t.equal(statusCommand(["--yaml"], "/nonexistent", io), 2);
  t.match(io.err, /unexpected argument "--yaml"\nusage: boxinit status \[--json\]/);
  const help = captureIo();
  t.equal(statusCommand(["--help"], "/nonexistent", help), 0);
  t.match(help.out, /^usage:/);
});

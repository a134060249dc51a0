import t from "tap";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, lstatSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StatusFile, serializeStatus, type StatusSnapshot } from "../../src/control/status-file.ts";
import { MAX_STATUS_JSON_BYTES } from "../../src/control/status-document.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { loadNative } from "../../src/native/addon.ts";
import { ROOT } from "../helpers/boxinit.ts";
import { bigDocument } from "../helpers/status-documents.ts";

const snapshot = (overrides: Partial<StatusSnapshot> = {}): StatusSnapshot => ({
  state: "running",
  since: "2026-11-26T10:00:00.000Z",
  pid: 1,
  version: "0.1.0",
  backoff: false,
  heartbeatMs: 30_000,
  services: {
    web: { state: "running", pid: 42, restarts: 1, lastExit: { code: 1, signal: null, at: "2026-11-26T09:59:00.000Z" }, readyAt: "2026-11-26T10:00:00.000Z" },
  },
  ...overrides,
});

const readJson = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, "status.json"), "utf8")) as Record<string, unknown>;

t.test("serialised document", async (t) => {
  const text = serializeStatus(snapshot({ exitCode: 143, state: "stopped" }), "2026-11-26T10:01:00.000Z", { nightly: { lastExit: 0 } });
  t.ok(text.endsWith("}\n"));
  const document = JSON.parse(text) as Record<string, unknown>;
  t.same(Object.keys(document), ["schemaVersion", "state", "since", "updatedAt", "pid", "version", "backoff", "exitCode", "heartbeatMs", "services", "jobs"]);
  t.equal(document.heartbeatMs, 30_000, "readers judge staleness by the writer's own heartbeat");
  t.equal(document.schemaVersion, 1);
  t.equal(document.exitCode, 143);
  t.same(document.jobs, { nightly: { lastExit: 0 } });
  const noExit = JSON.parse(serializeStatus(snapshot(), "x", undefined)) as Record<string, unknown>;
  t.notOk("exitCode" in noExit, "exitCode only when set");
  t.same(noExit.jobs, {}, "jobs always present");
});

t.test("writes status and status.json, status.json first, no temp files left", async (t) => {
  const dir = tempDir(t);
  const { log, lines } = recordingLogger();
  const file = new StatusFile(dir, log, { heartbeatMs: 60_000 });
  t.teardown(() => file.close());
  const before = Date.now();
  file.write(snapshot());
  t.equal(readFileSync(join(dir, "status"), "utf8"), "running\n");
  const document = readJson(dir);
  t.equal(document.state, "running");
  t.equal(document.since, "2026-11-26T10:00:00.000Z");
  t.ok(Date.parse(String(document.updatedAt)) >= before - 1, "updatedAt is now");
  t.same(document.services, snapshot().services);
  t.same(readdirSync(dir).sort(), ["status", "status.json"]);
  t.equal(statSync(join(dir, "status.json")).mode & 0o777, 0o644);
  t.ok(statSync(join(dir, "status.json")).mtimeMs <= statSync(join(dir, "status")).mtimeMs, "status.json is not newer than status");
  file.write(snapshot({ state: "stopping", since: "2026-11-26T10:05:00.000Z" }));
  t.equal(readFileSync(join(dir, "status"), "utf8"), "stopping\n");
  t.equal(readJson(dir).since, "2026-11-26T10:05:00.000Z");
  t.same(lines, [], "nothing to say when all is well");
});

t.test("mode 0644 whatever the umask", async (t) => {
  const dir = tempDir(t);
  const previous = process.umask(0o077);
  t.teardown(() => process.umask(previous));
  const file = new StatusFile(dir, recordingLogger().log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  file.close();
  t.equal(statSync(join(dir, "status")).mode & 0o777, 0o644);
  t.equal(statSync(join(dir, "status.json")).mode & 0o777, 0o644);
});

t.test("with the addon under umask 077: a missing state directory is made 0755 on every level, .status.lock 0644 (a job under another uid must lock it)", async (t) => {
  const { native, failures } = loadNative({ BOXINIT_ADDON: join(ROOT, "dist/boxinit.node") });
  t.ok(native, failures.join("; "));
  const base = tempDir(t);
  const dir = join(base, "a", "state");
  const previous = process.umask(0o077);
  t.teardown(() => process.umask(previous));
  const file = new StatusFile(dir, recordingLogger().log, { heartbeatMs: 60_000, native });
  file.write(snapshot());
  file.write(snapshot({ state: "stopping" }));
  file.close();
  t.same([join(base, "a"), dir, join(dir, ".status.lock"), join(dir, "status.json")].map((path) => (statSync(path).mode & 0o777).toString(8)), ["755", "755", "644", "644"]);
});

t.test("a symlink planted at the target is replaced, never followed", async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t, "boxinit-outside-");
  writeFileSync(join(outside, "passwd"), "root:x:0:0\n");
  writeFileSync(join(outside, "secret.json"), '{"jobs": {"stolen": true}}');
  symlinkSync(join(outside, "passwd"), join(dir, "status"));
  symlinkSync(join(outside, "secret.json"), join(dir, "status.json"));
  const file = new StatusFile(dir, recordingLogger().log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  file.close();
  t.equal(readFileSync(join(outside, "passwd"), "utf8"), "root:x:0:0\n", "outside file untouched");
  t.equal(readFileSync(join(outside, "secret.json"), "utf8"), '{"jobs": {"stolen": true}}');
  t.ok(lstatSync(join(dir, "status")).isFile(), "status is now a regular file");
  t.ok(lstatSync(join(dir, "status.json")).isFile());
  t.equal(readFileSync(join(dir, "status"), "utf8"), "running\n");
  t.same(readJson(dir).jobs, {}, "jobs are not read through a planted link");
});

t.test("jobs are carried over unchanged", async (t) => {
  const dir = tempDir(t);
  const jobs = { reindex: { lastStart: "2026-11-26T03:00:00.000Z", lastEnd: "2026-11-26T03:10:00.000Z", lastExit: { code: 0, signal: null }, logFile: null } };
  writeFileSync(join(dir, "status.json"), JSON.stringify({ schemaVersion: 1, state: "stopped", jobs }));
  const file = new StatusFile(dir, recordingLogger().log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  t.same(readJson(dir).jobs, jobs);
  // The job writer updates its key between our writes.
  const updated = { ...readJson(dir), jobs: { reindex: { ...jobs.reindex, lastExit: { code: 3, signal: null } } } };
  writeFileSync(join(dir, "status.json"), JSON.stringify(updated));
  file.write(snapshot({ state: "stopping" }));
  file.close();
  t.same(readJson(dir).jobs, updated.jobs);
  t.equal(readJson(dir).state, "stopping");
});

t.test("invalid existing status.json: kept aside as status.json.bad-TIME, each time with a warning, never replaced in place", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "status.json"), "{not json");
  const recorded = recordingLogger();
  const file = new StatusFile(dir, recorded.log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  writeFileSync(join(dir, "status.json"), "{still not json");
  file.write(snapshot());
  file.close();
  t.equal(readJson(dir).state, "running");
  const warnings = recorded.at("warn");
  t.equal(warnings.length, 2, "one warning per document kept aside");
  t.match(warnings[0], /existing status\.json cannot be used: not valid JSON .*; kept as status\.json\.bad-\S+, a new one written/);
  const keptAside = readdirSync(dir).filter((name) => name.startsWith("status.json.bad-")).sort();
  t.equal(keptAside.length, 2, keptAside.join(", "));
  t.same(keptAside.map((name) => readFileSync(join(dir, name), "utf8")).sort(), ["{not json", "{still not json"], "both kept byte for byte");
});

t.test("a valid status.json over the old 1 MiB cap keeps every job record", async (t) => {
  const dir = tempDir(t);
  const document = bigDocument(2200);
  const text = JSON.stringify(document, null, 2);
  t.ok(text.length > 1024 * 1024, `${text.length} bytes, over the old cap`);
  writeFileSync(join(dir, "status.json"), text);
  const recorded = recordingLogger();
  const file = new StatusFile(dir, recorded.log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  file.close();
  t.same(readJson(dir).jobs, document.jobs, "all 2200 records carried over");
  t.equal(readJson(dir).state, "running");
  t.same(recorded.at("warn"), [], "nothing to warn about");
  t.same(readdirSync(dir).sort(), ["status", "status.json"], "nothing kept aside");
});

t.test("a status.json that cannot be read whole is kept aside, not cut and replaced", async (t) => {
  const dir = tempDir(t);
  const huge = Buffer.alloc(MAX_STATUS_JSON_BYTES + 1, 0x20);
  writeFileSync(join(dir, "status.json"), huge);
  const recorded = recordingLogger();
  const file = new StatusFile(dir, recorded.log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  file.close();
  t.match(recorded.at("warn"), [/cannot be used: larger than 16777216 bytes, the most that is read; kept as status\.json\.bad-/]);
  const [keptAside] = readdirSync(dir).filter((name) => name.startsWith("status.json.bad-"));
  t.equal(statSync(join(dir, keptAside!)).size, huge.length, "kept whole");
  t.equal(readJson(dir).state, "running");
});

t.test("missing state directory is created (mkdir -p, 0755) and that is logged", async (t) => {
  const base = tempDir(t);
  const dir = join(base, "a", "b", "docker");
  const recorded = recordingLogger();
  const previous = process.umask(0o022);
  t.teardown(() => process.umask(previous));
  const file = new StatusFile(dir, recorded.log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  t.equal(readFileSync(join(dir, "status"), "utf8"), "running\n");
  t.equal(statSync(dir).mode & 0o777, 0o755);
  t.equal(recorded.at("info").length, 1);
  t.match(recorded.at("info")[0], /created the missing state directory.*dir=/);
  rmSync(dir, { recursive: true });
  file.write(snapshot({ state: "stopping" }));
  file.close();
  t.equal(readFileSync(join(dir, "status"), "utf8"), "stopping\n", "re-created when removed later");
});

t.test("cannot write: one warning per distinct problem, retried until it works", async (t) => {
  const base = tempDir(t);
  const blocker = join(base, "blocker");
  writeFileSync(blocker, "a regular file where a directory should be\n");
  const dir = join(blocker, "docker");
  const recorded = recordingLogger();
  const file = new StatusFile(dir, recorded.log, { heartbeatMs: 60_000, retryMs: 10 });
  t.teardown(() => file.close());
  t.doesNotThrow(() => {
    file.write(snapshot({ state: "starting" }));
    file.write(snapshot({ state: "warming" }));
    file.write(snapshot({ state: "running" }));
  });
  t.equal(recorded.at("warn").length, 1, "three attempts, one problem, one warning");
  t.match(recorded.at("warn")[0], /state-dir: cannot write status.json: ENOTDIR: retrying every 10ms/);
  t.match(recorded.at("warn")[0], /hint=/);

  // The problem goes away: the retry writes the latest snapshot by itself.
  rmSync(blocker);
  mkdirSync(dir, { recursive: true });
  await waitFor("the retry to write the status", () => existsSync(join(dir, "status")));
  t.equal(readFileSync(join(dir, "status"), "utf8"), "running\n", "the latest snapshot");
  t.equal(readJson(dir).state, "running");
  t.equal(recorded.at("info").filter((line) => /state directory writable again/.test(line)).length, 1);

  // A different problem is warned about anew; the retry rewrites once it is gone.
  rmSync(join(dir, "status.json"));
  mkdirSync(join(dir, "status.json"));
  file.write(snapshot({ state: "stopping" }));
  file.write(snapshot({ state: "stopping" }));
  t.equal(recorded.at("warn").length, 2);
  t.match(recorded.at("warn")[1], /cannot write status.json: EISDIR/);
  t.equal(readFileSync(join(dir, "status"), "utf8"), "running\n", "status not written before status.json");
  rmSync(join(dir, "status.json"), { recursive: true });
  await waitFor("the retry after EISDIR", () => readFileSync(join(dir, "status"), "utf8") === "stopping\n");
  t.equal(recorded.at("warn").length, 2, "no more warnings");
  t.same(readdirSync(dir).sort(), ["status", "status.json"], "failed attempts left no temp files");
});

t.test("heartbeat refreshes updatedAt", async (t) => {
  const dir = tempDir(t);
  const file = new StatusFile(dir, recordingLogger().log, { heartbeatMs: 20 });
  t.teardown(() => file.close());
  file.write(snapshot());
  const first = String(readJson(dir).updatedAt);
  file.startHeartbeat();
  file.startHeartbeat();
  await waitFor("a heartbeat write", () => String(readJson(dir).updatedAt) !== first);
  const document = readJson(dir);
  t.ok(Date.parse(String(document.updatedAt)) > Date.parse(first));
  t.equal(document.state, "running");
  t.equal(document.since, "2026-11-26T10:00:00.000Z", "since is the state's, not the heartbeat's");
});

t.test("stale temp files of a killed run are swept, young ones kept", async (t) => {
  const dir = tempDir(t);
  const stale = join(dir, ".status.json.1.abcdefgh.tmp");
  const young = join(dir, ".status.1.ijklmnop.tmp");
  writeFileSync(stale, "{half");
  writeFileSync(young, "run");
  const old = (Date.now() - 10 * 60_000) / 1000;
  utimesSync(stale, old, old);
  const file = new StatusFile(dir, recordingLogger().log, { heartbeatMs: 60_000 });
  file.write(snapshot());
  file.close();
  t.same(readdirSync(dir).sort(), [".status.1.ijklmnop.tmp", "status", "status.json"]);
});

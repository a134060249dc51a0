import t from "tap";
import type { StatusDocument } from "../../src/control/status-read.ts";
import type { Book } from "../../src/host/book-types.ts";
import { HOST_EXIT } from "../../src/host/errors.ts";
import { formatHostStatus, hostVerdicts, isFromEarlierRun, statusExitCode, type ContainerReport, type HostStatusReport } from "../../src/host/status.ts";

const NOW_MS = Date.parse("2026-11-26T08:00:00Z");
const isoBefore = (ms: number): string => new Date(NOW_MS - ms).toISOString();

const book: Book = {
  file: "/etc/boxinit/app.book.yaml", name: "app", image: "team/app", entrypoint: false, command: undefined, ports: [], maps: [],
  home: "/srv/app", env: {}, restart: undefined, healthcheck: undefined, network: undefined, hostname: undefined,
};

const RUNNING: ContainerReport = {
  name: "app-production", id: "0123456789abcdef0123456789abcdef", status: "running", isRunning: true, exitCode: 0,
  startedAt: "2026-11-26T07:00:00.123456789Z", finishedAt: "0001-01-01T00:00:00Z", health: "healthy",
  image: "team/app:run", imageId: "sha256:feedfacecafebeef0000", isCurrentRunImage: true,
};

const EXITED: ContainerReport = {
  ...RUNNING, status: "exited", isRunning: false, exitCode: 143, finishedAt: "2026-11-26T07:55:16Z", health: null,
};

const document = (over: Partial<StatusDocument> = {}): StatusDocument => ({
  state: "running", since: isoBefore(3_600_000), updatedAt: isoBefore(10_000), pid: 1, version: "0.1.0", backoff: false, services: {}, ...over,
});

// The verdicts are derived as hostStatus does, from the status.json and container given.
const reportOf = (container: ContainerReport | null, stateDir: Partial<HostStatusReport["stateDir"]> = {}): HostStatusReport => {
  const statusJson = stateDir.statusJson === undefined ? document() : stateDir.statusJson;
  return {
    book: book.file, container,
    stateDir: {
      path: "/srv/app", status: "running", statusJson, problem: null, isStale: false, isFromEarlierRun: false, isBackoffEngaged: false,
      ...hostVerdicts(statusJson, container, NOW_MS), ...stateDir,
    },
  };
};

const NO_STATUS = "no status in /srv/app (is boxinit running with --state-dir /srv/app?)";

t.test("no container, no status.json", async (t) => {
  t.equal(formatHostStatus(book, reportOf(null, { status: null, statusJson: null, problem: NO_STATUS }), NOW_MS), [
    "container: app-production: none",
    "state dir: /srv/app: status -, backoff not engaged",
    `  ${NO_STATUS}`,
    "",
  ].join("\n"));
});

t.test("a running container beside a fresh status.json", async (t) => {
  t.equal(formatHostStatus(book, reportOf(RUNNING), NOW_MS), [
    "container: app-production (0123456789ab): running since 2026-11-26T07:00:00.123456789Z",
    "health:    healthy",
    "image:     team/app:run feedfacecafe",
    "state dir: /srv/app: status running, backoff not engaged",
    "  live:      yes",
    "  ready:     yes",
    `  state:     running since ${isoBefore(3_600_000)} (1h 0m)`,
    "  updated:   10s ago",
    "  pid:       1",
    "  version:   0.1.0",
    "  backoff:   not engaged",
    "  services:  none",
    "",
  ].join("\n"));
});

t.test("an exited container whose status.json stopped in mid-run: stale", async (t) => {
  const text = formatHostStatus(book, reportOf(EXITED, { statusJson: document({ updatedAt: isoBefore(300_000) }), isStale: true }), NOW_MS);
  const lines = text.split("\n");
  t.equal(lines[0], "container: app-production (0123456789ab): exited (exit 143) at 2026-11-26T07:55:16Z");
  t.equal(lines[1], "health:    no health check");
  t.equal(lines[4], "  live:      no: container app-production is not running");
  t.equal(lines[5], "  ready:     no: container app-production is not running");
  t.equal(lines[7], "  updated:   5m 0s ago (stale: no heartbeat for over 1m 30s; boxinit may be frozen or gone)");
});

t.test("an exited container whose status.json says how it ended: not stale", async (t) => {
  const report = reportOf(EXITED, {
    status: "backedoff", statusJson: document({ state: "backedoff", updatedAt: isoBefore(300_000), backoff: true, exitCode: 0 }), isBackoffEngaged: true,
  });
  const text = formatHostStatus(book, report, NOW_MS);
  t.match(text, /\nstate dir: \/srv\/app: status backedoff, backoff engaged\n/);
  t.match(text, /\n {2}updated: {3}5m 0s ago\n/, "a final state is not stale however old");
  t.notMatch(text, /stale/);
  t.match(text, /\n {2}exit code: 0\n/);
});

t.test("a status.json that cannot be used: its problem, indented, instead", async (t) => {
  const problem = "/srv/app/status.json: not a boxinit status: no \"state\"";
  const text = formatHostStatus(book, reportOf(RUNNING, { status: "running", statusJson: null, problem }), NOW_MS);
  t.match(text, /\nstate dir: \/srv\/app: status running, backoff not engaged\n {2}\/srv\/app\/status.json: not a boxinit status: no "state"\n$/);
  t.notMatch(text, /updated:/);
});

t.test("a container not running the current :run image says so", async (t) => {
  const imageLine = (isCurrentRunImage: boolean | null): string | undefined =>
    formatHostStatus(book, reportOf({ ...RUNNING, isCurrentRunImage }), NOW_MS).split("\n")[2];
  t.equal(imageLine(false), "image:     team/app:run feedfacecafe (not the current :run: a promote is waiting for the next start)");
  t.equal(imageLine(true), "image:     team/app:run feedfacecafe");
  t.equal(imageLine(null), "image:     team/app:run feedfacecafe", "no :run image to compare with: nothing said");
});

t.test("what the state directory's files say cannot reach the terminal as control characters", async (t) => {
  // Anything in the container can write the state directory; boxinit status escapes status.json values for that reason.
  const status = formatHostStatus(book, reportOf(RUNNING, { status: "running\u001b[2J\r" }), NOW_MS);
  t.match(status, /status running\\x1b\[2J\\r, backoff/, "the status word, escaped");
  const problem = "/srv/app/status.json: not valid JSON: Unexpected token 'g', \"garbage\u001b[2J\nforged: line\" is not valid JSON";
  const text = formatHostStatus(book, reportOf(RUNNING, { statusJson: null, problem }), NOW_MS);
  t.equal(text.split("\n").length, 6, "the problem stays one line (and no verdicts without a status.json)");
  t.notMatch(text, /\u001b/, "no terminal escape from the file");
});

t.test("statusExitCode: 0 while the container runs, 3 otherwise", async (t) => {
  t.equal(statusExitCode(reportOf(RUNNING)), HOST_EXIT.ok);
  t.equal(statusExitCode(reportOf(EXITED)), HOST_EXIT.notRunning);
  t.equal(statusExitCode(reportOf(null)), HOST_EXIT.notRunning);
  t.equal(HOST_EXIT.notRunning, 3, "LSB's program is not running");
  t.equal(statusExitCode(reportOf(EXITED, { status: "running", statusJson: document() })), 3, "the engine decides, not a leftover status.json");
});

t.test("a status.json from before the container started is marked as an earlier run's", async (t) => {
  const text = formatHostStatus(book, reportOf(RUNNING, { isFromEarlierRun: true }), NOW_MS);
  t.match(text, /\n {2}\(status\.json was written before this container started: by an earlier run; this one has not written yet\)\n/);
  t.notMatch(formatHostStatus(book, reportOf(RUNNING), NOW_MS), /earlier run/);
});

t.test("isFromEarlierRun: written strictly before the container's start", async (t) => {
  const started = "2026-11-26T08:00:00.500000000Z";
  t.equal(isFromEarlierRun("2026-11-26T08:00:00.499Z", started), true);
  t.equal(isFromEarlierRun("2026-11-26T08:00:00.500Z", started), false, "the same instant is this run's");
  t.equal(isFromEarlierRun("2026-11-26T08:00:01Z", started), false);
  t.equal(isFromEarlierRun("2026-11-26T07:00:00Z", undefined), false, "no container: nothing to compare");
  t.equal(isFromEarlierRun(undefined, started), false, "no updatedAt: not judged");
  t.equal(isFromEarlierRun("garbage", started), false);
});

t.test("a degraded box: live, not ready, and why", async (t) => {
  const services = { app: { state: "restarting", pid: null, restarts: 0, lastExit: { code: null, signal: "SIGKILL", at: isoBefore(2000) }, readyAt: null } };
  const report = reportOf(RUNNING, { status: "degraded", statusJson: document({ state: "degraded", since: isoBefore(2000), services }) });
  t.same(report.stateDir.live, { isHealthy: true, why: "degraded, updated 10s ago" });
  t.same(report.stateDir.ready, { isHealthy: false, why: "state is degraded, not running: down: app (restarting)" });
  const lines = formatHostStatus(book, report, NOW_MS).split("\n");
  t.equal(lines[3], "state dir: /srv/app: status degraded, backoff not engaged");
  t.equal(lines[4], "  live:      yes");
  t.equal(lines[5], "  ready:     no: state is degraded, not running: down: app (restarting)");
  t.match(lines[6], /^ {2}state: {5}degraded since /);
});

t.test("hostVerdicts: the engine first, then status.json", async (t) => {
  t.same(hostVerdicts(null, RUNNING, NOW_MS), { live: null, ready: null }, "no status.json: nothing to judge (the problem line says why)");
  const none = { isHealthy: false, why: "no container" };
  t.same(hostVerdicts(document(), null, NOW_MS), { live: none, ready: none });
  const exited = { isHealthy: false, why: "container app-production is not running" };
  t.same(hostVerdicts(document(), EXITED, NOW_MS), { live: exited, ready: exited }, "a fresh running left by a killed boxinit is not believed");
  const stale = hostVerdicts(document({ updatedAt: isoBefore(300_000) }), RUNNING, NOW_MS);
  t.equal(stale.live?.isHealthy, false, "a frozen boxinit is not live");
  t.match(stale.live?.why, /^status is stale/);
  t.same(hostVerdicts(document({ state: "warming" }), RUNNING, NOW_MS), {
    live: { isHealthy: true, why: "warming, updated 10s ago" },
    ready: { isHealthy: false, why: "state is warming, not running" },
  });
});

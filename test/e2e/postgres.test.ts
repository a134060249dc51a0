// The real PostgreSQL (examples/postgres: Debian's postgresql-15, pg_ctl
// start -w / stop -m fast, the postmaster.pid PostgreSQL writes as the
// pidfile) under boxinit in a --network host container on 127.0.0.1:15432,
// its data directory bind-mounted from the host: `running` only once
// `select 1` answers, a postmaster killed with -9 makes the box `degraded`
// until the restart brings it back, backoff and `docker stop` shut it down
// cleanly (a row written before is there at the next start, which needs no
// crash recovery), and a wrong pidfile path fails clearly (exit 69) without a
// second postmaster on the same data directory.
import { rmSync } from "node:fs";
import { join } from "node:path";
import t, { type Test } from "tap";
import {
  POSTGRES_IMAGE, makeHostConfigDir, makeHostDir, makeHostStateDir, readImageFile, replaceExactly, requireDocker,
  requireFreeLoopbackPort, sampleWhileStatus, startContainer, type Container, type DockerEvent, type HostStateDir,
} from "../helpers/docker.ts";

const PORT = 15432;
const PGDATA = "/var/lib/postgresql/data";
const CONFIG = "/etc/boxinit/boxinit.yaml";
const POSTMASTER_PID = `${PGDATA}/postmaster.pid`;
// Bounds for a stuck run, not expectations: a start takes a second or two
// (pg_ctl itself gives up after 60 s).
const BOOT_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

// What the server logs at a start that follows a crash, and never after a clean shutdown.
const CRASH_RECOVERY = /database system was not properly shut down|automatic recovery in progress|database system was interrupted/;
// A postmaster started on a data directory that a live one holds.
const SECOND_POSTMASTER = /lock file "postmaster\.pid" already exists|pre-existing shared memory block/;
// pg_ctl found a postmaster.pid at its start: after a crash that is the dead
// server's (and expected); after a clean stop there is none.
const LOCK_FILE_FOUND = /another server might be running/;
// Lines that show boxinit had to SIGKILL something or a phase ran out of time.
const FORCED = /phase-overran|killed: sent SIGKILL|sent SIGKILL/;

/** A box on the example image with its state directory and the host's data directory. */
const startPostgres = (t: Test, what: string, state: HostStateDir, dataDir: string, options: string[] = []): Promise<Container> =>
  startContainer(t, what, {
    image: POSTGRES_IMAGE,
    options: ["--network", "host", ...state.mount, "-v", `${dataDir}:${PGDATA}`, ...options],
  });

/** psql as the postgres user over the Unix socket; the output of one statement, or its error. */
const psql = async (box: Container, sql: string): Promise<{ code: number; out: string }> => {
  const result = await box.exec(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-Atc", sql], ["-u", "postgres"]);
  return { code: result.code, out: (result.stdout + result.stderr).trim() };
};

const health = async (box: Container, mode?: "--live" | "--ready"): Promise<number> =>
  (await box.exec(["boxinit", "health", ...(mode ? [mode] : [])])).code;

const dockerKilled = (events: readonly DockerEvent[]): boolean =>
  events.some((event) => event.action === "kill" && event.attributes.signal === "9");

/** Boot to `running`, failing with the status trail otherwise. */
const bootToRunning = async (t: Test, state: HostStateDir): Promise<string[]> => {
  const seen = await state.waitForStatus(["running", "failed", "stopped", "backedoff"], BOOT_TIMEOUT_MS);
  t.equal(seen.at(-1), "running", `status went ${seen.join(" -> ")}`);
  return seen;
};

/** Backoff off, and the last run's status gone, so that a wait for the next run's words cannot read the last one's. */
const clearForNextStart = (state: HostStateDir): void => {
  state.write("backoff", "false\n");
  for (const name of ["status", "status.json"]) rmSync(join(state.path, name), { force: true });
};

/** A table with one row, written before a stop; the next start must still have it. */
const writeRow = async (t: Test, box: Container, value: string): Promise<void> => {
  const created = await psql(box, `create table if not exists kept (value text); insert into kept values ('${value}')`);
  t.equal(created.code, 0, `insert: ${created.out}`);
};

/** The next start on the same data directory: running, the row there, no crash recovery in its log. */
const nextStartKeeps = async (t: Test, what: string, state: HostStateDir, dataDir: string, value: string): Promise<void> => {
  clearForNextStart(state);
  const box = await startPostgres(t, what, state, dataDir);
  await bootToRunning(t, state);
  const row = await psql(box, `select value from kept where value = '${value}'`);
  t.equal(row.out, value, "the row written before the stop is there");
  // The status is on the host at once; Docker copies the log on its own time: wait for the line.
  const logs = await box.waitForLogs([/database system was shut down at/]);
  t.match(logs, /database system was shut down at/, "the server found a cleanly shut down cluster");
  t.notMatch(logs, CRASH_RECOVERY, "and needed no crash recovery");
  t.notMatch(logs, LOCK_FILE_FOUND, "the clean stop left no postmaster.pid");
  t.notMatch(logs, SECOND_POSTMASTER, "no second postmaster");
};

t.test("PostgreSQL 15 (Debian's postgresql-15) under boxinit", async (t) => {
  if (!(await requireDocker(t, [POSTGRES_IMAGE]))) return;
  if (!(await requireFreeLoopbackPort(t, PORT))) return;

  await t.test("running only once select 1 answers; kill -9 of the postmaster: degraded, health fails, restarted", async (t) => {
    const state = makeHostStateDir(t);
    const dataDir = makeHostDir(t, "pgdata");
    const box = await startPostgres(t, "pg-boot", state, dataDir);
    await bootToRunning(t, state);
    t.same(await psql(box, "select 1"), { code: 0, out: "1" }, "select 1 answers as soon as the status says running");
    t.equal(await health(box), 0, "boxinit health: 0 while running");
    t.match(await box.waitForLogs([/10-initdb: creating a database cluster/]), /10-initdb: creating a database cluster/, "the first start made the cluster in the host directory");
    await writeRow(t, box, "before-crash");

    const pid = state.statusJson()?.services?.postgres?.pid;
    const firstLine = (await box.exec(["head", "-n", "1", POSTMASTER_PID])).stdout.trim();
    t.equal(String(pid), firstLine, "boxinit follows the pid on the first line of postmaster.pid");
    const comm = (await box.exec(["cat", `/proc/${pid}/comm`])).stdout.trim();
    t.equal(comm, "postgres", "and that is the postmaster");

    const killedAt = Date.now();
    t.equal((await box.exec(["kill", "-9", String(pid)])).code, 0, "kill -9 of the postmaster");
    await state.waitForStatus("degraded", 10_000);
    t.comment(`degraded seen ${Date.now() - killedAt} ms after kill -9 returned`);
    // All three at once: the window lasts the restart delay plus the start, on a loaded machine too.
    const [plain, ready, live] = await sampleWhileStatus(state, "degraded", () =>
      Promise.all([health(box), health(box, "--ready"), health(box, "--live")]));
    t.not(plain, 0, "boxinit health fails while the postmaster is down");
    t.not(ready, 0, "so does boxinit health --ready");
    t.equal(live, 0, "boxinit health --live passes: PID 1 is managing it");

    const back = await state.waitForStatus(["running", "failed", "stopped"], BOOT_TIMEOUT_MS);
    t.equal(back.at(-1), "running", `after the restart: ${back.join(" -> ")}`);
    t.same(await psql(box, "select 1"), { code: 0, out: "1" }, "select 1 answers again");
    t.equal(await health(box), 0, "boxinit health: 0 again");
    const service = state.statusJson()?.services?.postgres;
    t.equal(service?.restarts, 1, "one restart");
    t.not(service?.pid, pid, "a new postmaster");
    t.same(await psql(box, "select value from kept"), { code: 0, out: "before-crash" }, "committed data survived the crash");
    const logs = await box.waitForLogs([/service postgres was killed by SIGKILL; restarting/, CRASH_RECOVERY]);
    t.match(logs, /service postgres was killed by SIGKILL; restarting/, "the log says why it restarted");
    // The same words the clean-stop tests look for, present here: they would be seen.
    t.match(logs, CRASH_RECOVERY, "after kill -9 the server did recover from a crash");
    t.notMatch(logs, SECOND_POSTMASTER, "no postmaster ever met another on the data directory");
  });

  await t.test("backoff from the host: pg_ctl stop -m fast, backedoff, its exit code; the next start keeps the row, no recovery", async (t) => {
    const state = makeHostStateDir(t);
    const dataDir = makeHostDir(t, "pgdata");
    const box = await startPostgres(t, "pg-backoff", state, dataDir);
    await bootToRunning(t, state);
    await writeRow(t, box, "before-backoff");
    state.write("backoff", "true\n");
    const seen = await state.waitForStatus(["backedoff", "stopped", "failed"], STOP_TIMEOUT_MS);
    t.equal(seen.at(-1), "backedoff", `host-side status went ${seen.join(" -> ")}`);
    const code = await box.wait(STOP_TIMEOUT_MS);
    const logs = await box.logsInOrder();
    t.match(logs, /running the stop command of service postgres .*pg_ctl","stop"/, "boxinit ran pg_ctl stop");
    t.match(logs, /received fast shutdown request/, "the postmaster got a fast shutdown");
    t.match(logs, /database system is shut down/, "and finished it");
    const stopCode = logs.match(/the stop command of service postgres exited with code (\d+)/)?.[1];
    t.ok(stopCode !== undefined, "the log has the stop command's exit code");
    t.equal(code, Number(stopCode), "the container's exit code is pg_ctl stop's");
    t.equal(code, 0, "which is 0: the server stopped in time");
    t.notMatch(logs, FORCED, "nothing overran, nothing was killed");
    t.match(state.statusJson(), { state: "backedoff", backoff: true, exitCode: code });
    await nextStartKeeps(t, "pg-backoff-next", state, dataDir, "before-backoff");
  });

  await t.test("docker stop: pg_ctl stop within the grace, no SIGKILL, exit 0; the next start keeps the row, no recovery", async (t) => {
    const state = makeHostStateDir(t);
    const dataDir = makeHostDir(t, "pgdata");
    const box = await startPostgres(t, "pg-stop", state, dataDir);
    await bootToRunning(t, state);
    await writeRow(t, box, "before-docker-stop");
    const stopBegun = Date.now();
    // Docker would SIGKILL after 30 s; boxinit's grace is 9 s.
    await box.stop(30);
    t.comment(`docker stop returned after ${Date.now() - stopBegun} ms`);
    t.equal(await box.wait(), 0, "exit code 0");
    const logs = await box.logsInOrder();
    t.match(logs, /running the stop command of service postgres/, "pg_ctl stop ran");
    t.match(logs, /received fast shutdown request/);
    t.match(logs, /database system is shut down/);
    t.notMatch(logs, FORCED, "no phase overran, nothing was killed");
    t.equal(state.status(), "stopped");
    t.notOk(dockerKilled(await box.events()), "Docker never had to SIGKILL");
    await nextStartKeeps(t, "pg-stop-next", state, dataDir, "before-docker-stop");
  });

  await t.test("a pidfile path that is not postmaster.pid: a clear first error, exit 69, never a second postmaster", async (t) => {
    const wrongPidfile = "/run/postgresql/postgres.pid";
    let config = await readImageFile(POSTGRES_IMAGE, CONFIG);
    config = replaceExactly(config, `pidfile: ${POSTMASTER_PID}`, `pidfile: ${wrongPidfile}`);
    // A short wait for the file that never comes, one retry that starts the server again.
    config = replaceExactly(config, "pidfile_timeout: 70s", "pidfile_timeout: 10s");
    config = replaceExactly(config, "max_restarts: 5", "max_restarts: 1");
    const configDir = makeHostConfigDir(t, { "boxinit.yaml": config });
    const state = makeHostStateDir(t);
    const dataDir = makeHostDir(t, "pgdata");
    const box = await startPostgres(t, "pg-pidfile", state, dataDir, [
      "-v", `${configDir}:/etc/boxinit-test:ro`, "-e", "BOXINIT_CONFIG=/etc/boxinit-test/boxinit.yaml",
    ]);
    const code = await box.wait(BOOT_TIMEOUT_MS);
    const logs = await box.logsInOrder();
    t.equal(code, 69, "exit 69: the pidfile never named the service (EX_UNAVAILABLE)");
    const firstError = logs.split("\n").find((line) => line.startsWith("boxinit: error: "));
    t.match(firstError, new RegExp(`pidfile ${wrongPidfile.replaceAll(".", "\\.")}`), "the first error names the pidfile");
    t.notMatch(logs, SECOND_POSTMASTER, "no second postmaster on the data directory");
    t.notMatch(logs, LOCK_FILE_FOUND, "no start found a postmaster.pid: the one before was stopped cleanly");
    t.notMatch(logs, FORCED, "what a failed start left was stopped, not killed");
    // Every postmaster this box started was shut down before the next try, or before it gave up.
    const starts = logs.split(/^boxinit: spawned: started service postgres .*$/m).slice(1);
    t.ok(starts.length >= 1, `the service was started (${starts.length} times)`);
    starts.forEach((segment, index) => {
      if (!/database system is ready to accept connections/.test(segment)) return; // no server came up
      t.match(segment, /database system is ready to accept connections[^]*database system is shut down/,
        `the postmaster of start ${index + 1} was shut down before the next start or the end`);
    });
    t.equal(state.status(), "failed", "the box failed");
    // The data directory is intact: PostgreSQL's lock file was PostgreSQL's to remove.
    clearForNextStart(state);
    const next = await startPostgres(t, "pg-pidfile-next", state, dataDir);
    await bootToRunning(t, state);
    t.same(await psql(next, "select 1"), { code: 0, out: "1" }, "the cluster starts again with the image's own config");
    t.notMatch(await next.logsInOrder(), CRASH_RECOVERY, "and needed no crash recovery");
  });
});

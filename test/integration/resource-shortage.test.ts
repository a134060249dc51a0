// When boxinit runs out of file descriptors while it starts things (issue 13,
// bug 2): nothing reaches the fault handler (no exit 70), nothing is blamed on
// the script or service (no 126, no giving up), the log names EMFILE, and what
// could not start comes up once fds are free again. The limit is lowered on
// the running boxinit with prlimit.
//
// The limit bounds fd numbers: a new fd gets the lowest free number, and only
// one below the soft limit. Counting boxinit's free numbers at one moment is
// not enough: boxinit opens and closes fds of its own at any time (the state
// directory, status.json and its temp files on every status write, the
// heartbeat), and one open while /proc/PID/fd is read and closed right after
// is room the count did not see. So "no fd at all" is a limit of 3: fds 0-2
// (boxinit's stdin, stdout, stderr) stay open for its whole life, every other
// fd it has is at 3 or above, and no fd it closes can make room below the
// limit. "Room for N" is counted only from a table read while boxinit was
// held at that limit, so nothing it had opened for a moment is in it.
import t from "tap";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const SERVICES = ["s1", "s2", "s3", "s4", "s5", "s6"];

/** The fd numbers a process has open now. */
const openFds = (pid: number): Set<number> => new Set(readdirSync(`/proc/${pid}/fd`).map(Number));

/**
 * The open-file limit that leaves exactly `free` fd numbers below it that are
 * not in `open` (holes first): the room a process with that fd table gets.
 */
const limitLeaving = (open: ReadonlySet<number>, free: number): number => {
  let left = free;
  for (let fd = 0; ; fd++) {
    if (open.has(fd)) continue;
    if (left === 0) return fd;
    left--;
  }
};

/** Set the soft open-file limit of a running process (the hard limit stays). */
const setFdLimit = (pid: number, soft: number): void => {
  execFileSync("prlimit", ["--pid", String(pid), `--nofile=${soft}:`]);
};

// Below it only fds 0-2, which boxinit never closes: not one new fd, whatever it opens and closes meanwhile.
const NO_NEW_FD = 3;

/** Leave boxinit no fd at all: the limit below every fd it has beyond its stdio (checked open first). */
const allowNoNewFd = (t: { ok: (value: unknown, message: string) => unknown }, pid: number): void => {
  const open = openFds(pid);
  t.ok([0, 1, 2].every((fd) => open.has(fd)), "boxinit's stdin, stdout and stderr are open: a limit of 3 leaves no fd free");
  setFdLimit(pid, NO_NEW_FD);
};

const SECOND_DEFERRED = /init script \S*20-second: cannot start it now: .*EMFILE.*not the script's fault: trying again/g;

for (const mode of MODES) {
  t.test(`${mode}: out of file descriptors while starting init scripts and six services`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const services = SERVICES.map((name) => [
      `  ${name}:`,
      `    command: [sh, -c, 'echo up-${name}; exec sleep 1000']`,
      "    critical: false",
      "    restart_delay: 100ms",
      "    restart_max_delay: 300ms",
    ].join("\n"));
    const box = makeBox(t, `services:\n${services.join("\n")}\n`);
    const go = join(box.dir, "go");
    // The first script holds the boot until the test has lowered the limit; the second must then wait for fds.
    box.script("init.d/10-wait", `while [ ! -e ${go} ]; do sleep 0.02; done\n`);
    box.script("init.d/20-second", "echo second-init-script-ran\n");
    const run = startBoxinit(mode, box.args);
    await run.waitFor(/running init script \S*10-wait/, "stderr", 30_000);
    const pid = await run.boxinitPid();

    // No fd at all: the second init script cannot even get its report pipe, at any try.
    allowNoNewFd(t, pid);
    writeFileSync(go, "");
    await run.waitFor(SECOND_DEFERRED, "stderr", 30_000);
    // A second try: the script is retried, not given up on.
    await run.waitFor(new RegExp(`(${SECOND_DEFERRED.source}[^]*){2}`), "stderr", 30_000);
    // Both tries came after the first script ended, so after the limit:
    // whatever boxinit held open for a moment then is closed again, and it can
    // open nothing new. The table now is what it keeps.
    const kept = openFds(pid);
    t.notMatch(run.stdout, /second-init-script-ran/, "the second init script did not run while boxinit had no fd");
    t.notMatch(run.stderr, /internal-error|exited with code 126|init script \S*20-second: cannot start:/, "its lack of fds was not a fault, nor the script's");

    // Room for 8 fds, far from six services' worth (a start needs six at once,
    // a started one keeps its two output pipes): the others are told to wait, by name and errno.
    setFdLimit(pid, limitLeaving(kept, 8));
    await run.waitFor(/second-init-script-ran/, "stdout", 30_000);
    await run.waitFor(/service s\d: cannot start it now: .*boxinit is out of file descriptors \(EMFILE.*not the service's fault: trying again/, "stderr", 30_000);

    // fds free again: every service comes up at its next try.
    setFdLimit(pid, 4096);
    for (const name of SERVICES) await run.waitFor(new RegExp(`${name} \\| up-${name}`), "stdout", 30_000);
    await run.waitFor(/every service is up/, "stderr", 30_000);
    // Which ones waited depends on when the limit went up (the test raises it while boxinit starts them).
    const waited = [...new Set([...run.stderr.matchAll(/service (s\d): cannot start it now: .*EMFILE/g)].map((match) => match[1]!))];
    const restarts = box.statusJson()?.services;
    for (const name of waited) t.same(restarts?.[name]?.restarts, 0, `${name}: a start that waited for fds is not a restart`);

    await run.signal("SIGTERM");
    const ended = await run.result(30_000);
    t.equal(ended.code, 0, "an orderly stop, not exit 70");
    t.notMatch(run.stderr, /internal-error/, "nothing reached the fault handler");
    t.notMatch(run.stderr, /exited with code 126|giving up/, "nothing was blamed on a service");
  });
}

for (const mode of MODES) {
  t.test(`${mode}: out of file descriptors when a scheduled job starts: not started, its reason logged, never an internal fault`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const box = makeBox(t, `services:
  web: {command: [sleep, "1000"]}
jobs:
  tick:
    command: "echo tick-ran"
    schedule: "* * * * * *"
`);
    const run = startBoxinit(mode, box.args);
    await run.waitFor(/job tick succeeded/, "stderr", 30_000);
    const pid = await run.boxinitPid();

    // No fd at all: the job's output pipes cannot be made (its lock and record cannot either, which it survives).
    allowNoNewFd(t, pid);
    await run.waitFor(/job tick failed: not started: its output pipes: boxinit is out of file descriptors \(EMFILE.*\(exit 71\)/, "stderr", 30_000);

    // fds free again: the next run goes through.
    setFdLimit(pid, 4096);
    const succeededSoFar = run.stderr.match(/job tick succeeded/g)!.length;
    await run.waitFor(new RegExp(`(job tick succeeded[^]*){${succeededSoFar + 1}}`), "stderr", 30_000);

    await run.signal("SIGTERM");
    const ended = await run.result(30_000);
    t.equal(ended.code, 0, "an orderly stop, not exit 70");
    t.notMatch(run.stderr, /internal-error/, "nothing reached the fault handler");
  });

  t.test(`${mode}: boxinit job under every fd limit it can start with: never an internal fault, a shortage exits 71 with its reason`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    // Node raises its soft limit to the hard one at start: both are lowered,
    // through prlimit, which execs boxinit in its place (keeping PID 1). Each
    // limit from one Node cannot start with up to one the job runs under.
    const outcomes: string[] = [];
    let pipesShort = 0;
    for (let limit = 16; limit <= 64; limit++) {
      const stateDir = mkdtempSync(join(tmpdir(), "boxinit-fdjob-"));
      try {
        const result = await runBoxinit(mode, ["--state-dir", stateDir, "job", "fd", "--", "echo", "job-ran"], {
          execThrough: ["prlimit", `--nofile=${limit}:${limit}`],
          timeoutMs: 30_000,
        });
        outcomes.push(`${limit}: ${result.code}`);
        t.not(result.code, 70, `limit ${limit}: not an internal fault`, { stderr: result.stderr });
        t.notMatch(result.stderr, /internal-error/, `limit ${limit}: nothing reached the fault handler`);
        if (/not started: its output pipes: boxinit is out of file descriptors \(EMFILE/.test(result.stderr)) {
          pipesShort++;
          t.equal(result.code, 71, `limit ${limit}: no output pipes is EX_OSERR, the command is not blamed`);
        }
        if (result.code === 0 && result.stdout.includes("job-ran")) break;
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
    t.ok(pipesShort > 0, `some limit left the job without its output pipes (limit: exit code ${outcomes.join(", ")})`);
    t.match(outcomes.at(-1), /: 0$/, "a limit high enough runs the job");
  });
}

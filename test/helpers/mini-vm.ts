// A scratch "container" for Mini-VM tests: a temporary directory holding the
// config, the state directory and any scripts, plus deadline-bound waits on
// the status file that boxinit writes there, free loopback ports for daemon
// fixtures, and boxinit's JSON log read back with its own timestamps.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep, type Mode } from "./boxinit.ts";
import { stateDirReader, type StateDirReader } from "./state-dir.ts";

export interface Box extends StateDirReader {
  dir: string;
  stateDir: string;
  configPath: string;
  /** Arguments that point boxinit at this box: --config FILE. */
  args: string[];
  /** Write an executable script under the box and return its path. */
  script(name: string, body: string): string;
  /** Write the backoff file in place. */
  setBackoff(content: string): void;
  /**
   * In teardown, SIGKILL the pid that a daemon of this box wrote to `pidfile`
   * (a setsid'd daemon outlives a boxinit that crashed as subreaper). Returns
   * the path. As PID 1 it does nothing: the namespace's pids mean nothing
   * here, and the kernel kills the namespace once its PID 1 is gone.
   */
  killPidfileOnTeardown(pidfile: string, mode: Mode): string;
}

/**
 * Make a box. `config` is the YAML body; the placeholder STATE in it is
 * replaced by the state directory and BOX by the box directory. init_dir and
 * finish_dir default to BOX/init.d and BOX/finish.d unless the YAML sets them.
 */
export const makeBox = (t: { teardown: (fn: () => void) => void }, config: string, prefix = "boxinit-box-"): Box => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const createdAtTicks = uptimeTicks();
  const pidfiles: string[] = [];
  t.teardown(() => {
    for (const pidfile of pidfiles) killPidfileDaemon(pidfile, createdAtTicks);
    rmSync(dir, { recursive: true, force: true });
  });
  const stateDir = join(dir, "state");
  mkdirSync(stateDir);
  const configPath = join(dir, "boxinit.yaml");
  let yaml = config.replaceAll("STATE", stateDir).replaceAll("BOX", dir);
  if (!/^state_dir:/m.test(yaml)) yaml = `state_dir: ${stateDir}\n${yaml}`;
  if (!/^init_dir:/m.test(yaml)) yaml = `init_dir: ${join(dir, "init.d")}\n${yaml}`;
  if (!/^finish_dir:/m.test(yaml)) yaml = `finish_dir: ${join(dir, "finish.d")}\n${yaml}`;
  writeFileSync(configPath, yaml);
  return {
    dir,
    stateDir,
    configPath,
    args: ["--config", configPath],
    script(name, body) {
      const file = join(dir, name);
      mkdirSync(join(file, ".."), { recursive: true });
      writeFileSync(file, body.startsWith("#!") ? body : `#!/bin/sh\n${body}`);
      chmodSync(file, 0o755);
      return file;
    },
    ...stateDirReader(stateDir, 5, 15_000),
    setBackoff(content) {
      writeFileSync(join(stateDir, "backoff"), content);
    },
    killPidfileOnTeardown(pidfile, mode) {
      if (mode === "subreaper") pidfiles.push(pidfile);
      return pidfile;
    },
  };
};

// /proc reports times in USER_HZ, which the kernel ABI fixes at 100 (proc(5)).
const USER_HZ = 100;

/** Clock ticks since boot now: the scale of a process's starttime in /proc/PID/stat. */
const uptimeTicks = (): number => Math.floor(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * USER_HZ);

/** A process's start time in clock ticks since boot, or undefined once it is gone. */
const startTicksOf = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)", which may itself hold spaces: state is field 3, starttime field 22.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return undefined;
  }
};

// The pid is killed only if that process started after the box was made: a
// pid reused since (or a stale pidfile) must never cost an unrelated process.
const killPidfileDaemon = (pidfile: string, createdAtTicks: number): void => {
  let pid: number;
  try {
    pid = Number(readFileSync(pidfile, "utf8").trim());
  } catch {
    return; // never written: nothing was started
  }
  const startTicks = startTicksOf(pid);
  if (!Number.isInteger(pid) || pid <= 1 || startTicks === undefined || startTicks < createdAtTicks) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
};

/** A loopback port nothing listens on right now: the kernel picks it (listen on port 0), we close it. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no port from ${JSON.stringify(address)}`))));
    });
  });

/** Whether python3 is there: the HTTP daemon fixture (daemons/http-daemon-start.sh) serves with python3 -m http.server. */
export const hasPython = (): boolean => spawnSync("python3", ["--version"]).status === 0;

/** One line of boxinit's --log-format json log. */
export interface LogEntry {
  level: number;
  /** Epoch ms from pino's `time`: when boxinit logged it, not when the test read it. */
  timeMs: number;
  event: string;
  msg: string;
  [field: string]: unknown;
}

/** The JSON lines of a --log-format json stderr; other lines (service output) are left out. */
export const parseJsonLog = (stderr: string): LogEntry[] =>
  stderr.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      const entry = JSON.parse(line);
      return typeof entry.time === "string" ? [{ ...entry, timeMs: Date.parse(entry.time) }] : [];
    } catch {
      return [];
    }
  });

/** When boxinit logged the first line whose message matches, by its own clock; throws when none did. */
export const loggedAt = (stderr: string, message: RegExp): number => {
  const entry = parseJsonLog(stderr).find((candidate) => message.test(candidate.msg));
  if (entry === undefined) throw new Error(`no JSON log line matches ${message}\nstderr: ${stderr}`);
  return entry.timeMs;
};

/** Poll status.json until check says yes; fail with the last content at the deadline. */
export const waitForJson = async (box: Box, check: (json: Record<string, any>) => boolean, what: string, timeoutMs = 10_000): Promise<Record<string, any>> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const json = box.statusJson();
    if (json && check(json)) return json;
    if (Date.now() > deadline) throw new Error(`status.json never showed ${what}; last: ${JSON.stringify(json)}`);
    await sleep(5);
  }
};

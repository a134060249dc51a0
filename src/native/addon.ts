// The only importer of boxinit.node: finds a loadable copy, checks it, and
// wraps its -errno return convention in typed results.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

// node:os and node:sea are loaded only on the paths that need them (error
// wording, the embedded copy): each costs PID 1 start-up time.
const os = (): typeof import("node:os") => process.getBuiltinModule("node:os");

/** Linux errno values the wrapper acts on (checked against os.constants in tests). */
export const ERRNO = { ECHILD: 10 } as const;

/** The raw functions exported by native/boxinit.c. */
interface RawAddon {
  peekZombie(): number;
  reap(pid: number): number;
  setChildSubreaper(): number;
  setForeground(fd: number, pgid: number): number;
  getpgrp(): number;
  isatty(fd: number): number;
  takeSignals(): number;
  listenSignals(callback: (signal: number, received: number, forwarded: number, sender: number, code: number, result: number) => void): number;
  forwardSignals(pgid: number, sendAs: readonly number[], terminalFd: number): number;
  stoppedBy(pid: number): number;
  setParentDeathSignal(signal: number, parentAtStart: number): number;
  spawnCommand(file: string, argv: readonly string[], foregroundFd: number, preserveFds: number): number;
  getForeground(fd: number): number;
  makePipe(): number | [number, number];
  spawnService(file: string, argv: readonly string[], env: readonly string[], cwd: string, uid: number, gid: number, groups: readonly number[], outFd: number, errFd: number): number;
  tryLock(fd: number): number;
  setName(name: string): number;
  setChildDeathSignal(signal: number): number;
  openAt(dirFd: number, name: string, flags: number, mode: number): number;
  mkdirAt(dirFd: number, name: string, mode: number): number;
  renameAt(fromDirFd: number, from: string, toDirFd: number, to: string): number;
  linkAt(fromDirFd: number, from: string, toDirFd: number, to: string): number;
  unlinkAt(dirFd: number, name: string, isDir: number): number;
  statAt(dirFd: number, name: string): number | [number, number, number, number, number, number];
  readDir(dirFd: number): number | string[];
  execSelf(inheritBelow: number): number;
}

const REQUIRED_FUNCTIONS: ReadonlyArray<keyof RawAddon> = [
  "peekZombie",
  "reap",
  "setChildSubreaper",
  "setForeground",
  "getpgrp",
  "isatty",
  "takeSignals",
  "listenSignals",
  "forwardSignals",
  "stoppedBy",
  "setParentDeathSignal",
  "spawnCommand",
  "getForeground",
  "makePipe",
  "spawnService",
  "tryLock",
  "setName",
  "setChildDeathSignal",
  "openAt",
  "mkdirAt",
  "renameAt",
  "linkAt",
  "unlinkAt",
  "statAt",
  "readDir",
  "execSelf",
];

/** What spawnService needs: env as KEY=VALUE strings; omitted fields keep boxinit's own. */
export interface ServiceSpawn {
  file: string;
  argv: readonly string[];
  env: readonly string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  groups?: readonly number[];
  outFd?: number;
  errFd?: number;
}

// The step of spawn_service (native/boxinit.c) that failed, by its stage number.
const SPAWN_STAGES = ["exec", "chdir", "setuid", "stdio"] as const;

/** Where a packaged install (the base image) puts the addon: an exec-capable root. */
export const INSTALLED_ADDON_PATH = "/usr/lib/boxinit/boxinit.node";

/** A system call failure carried back from the addon; `code` is the errno's name, as on Node's own errors. */
export class NativeError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  /** The file the call was about (relative to its directory descriptor for the *at calls), when there is one. */
  readonly path: string | undefined;
  constructor(call: string, errno: number, path?: string) {
    const code = errnoName(errno);
    super(path === undefined ? `${call}: ${code}` : `${call} '${path}': ${code}`);
    this.name = "NativeError";
    this.errno = errno;
    this.code = code;
    this.syscall = call;
    this.path = path;
  }
}

/** What statAt tells about one directory entry (the entry itself: a symlink is not followed). */
export interface EntryStat {
  /** st_mode: type and permission bits. */
  mode: number;
  size: number;
  mtimeMs: number;
  nlink: number;
  uid: number;
  /** st_ino as a double: exact below 2^53, enough to tell a replaced file from the one read. */
  ino: number;
}

const errnoName = (errno: number): string => {
  for (const [name, value] of Object.entries(os().constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
};

/** What the signal intake took of one signal since the last event-loop turn. */
export interface SignalIntake {
  signal: number;
  /** How many arrived (each one meant for the command or the stop). */
  received: number;
  /** How many of them the handler already sent on (forwardSignals). */
  forwarded: number;
  /** si_pid of the latest: 0 when it came from outside the PID namespace or from the kernel. */
  sender: number;
  /** si_code of the latest: <= 0 sent by a process, > 0 raised by the kernel. */
  code: number;
  /** errno name when the latest forward failed (ESRCH: the group is gone). */
  forwardError: string | undefined;
}

/** Result of looking at the next exited child without reaping it. */
export type Peek = { kind: "zombie"; pid: number } | { kind: "none-exited" } | { kind: "no-children" };

/** Typed access to the addon's system calls. */
export class Native {
  readonly #raw: RawAddon;
  /** Where the loaded copy came from, for the log. */
  readonly source: string;
  constructor(raw: RawAddon, source: string) {
    this.#raw = raw;
    this.source = source;
  }

  /** The next exited child, left unreaped (waitid WNOWAIT). */
  peekZombie(): Peek {
    const rc = this.#raw.peekZombie();
    if (rc > 0) return { kind: "zombie", pid: rc };
    if (rc === 0) return { kind: "none-exited" };
    if (-rc === ERRNO.ECHILD) return { kind: "no-children" };
    throw new NativeError("waitid", -rc);
  }

  /** Reap one child; its raw wait status, or undefined if it has not exited (or is gone). */
  reap(pid: number): number | undefined {
    const rc = this.#raw.reap(pid);
    if (rc > 0) return Math.floor(rc / 2);
    if (rc === 0 || -rc === ERRNO.ECHILD) return undefined;
    throw new NativeError("waitpid", -rc);
  }

  /** prctl(PR_SET_CHILD_SUBREAPER). */
  setChildSubreaper(): void {
    const rc = this.#raw.setChildSubreaper();
    if (rc < 0) throw new NativeError("prctl(PR_SET_CHILD_SUBREAPER)", -rc);
  }

  /** tcsetpgrp(fd, pgid) with SIGTTOU blocked. */
  setForeground(fd: number, pgid: number): void {
    const rc = this.#raw.setForeground(fd, pgid);
    if (rc < 0) throw new NativeError("tcsetpgrp", -rc);
  }

  /** isatty(3); node:tty would cost PID 1 start-up time for one question. */
  isatty(fd: number): boolean {
    return this.#raw.isatty(fd) === 1;
  }

  /** Install the signal intake for every catchable signal but SIGCHLD (native/signal-intake.c); once. */
  takeSignals(): void {
    const rc = this.#raw.takeSignals();
    if (rc < 0) throw new NativeError("sigaction", -rc);
  }

  /** Hear of every signal the intake took, on the event loop (those taken before included). */
  listenSignals(listener: (intake: SignalIntake) => void): void {
    const rc = this.#raw.listenSignals((signal, received, forwarded, sender, code, result) =>
      listener({ signal, received, forwarded, sender, code, forwardError: result < 0 ? errnoName(-result) : undefined }));
    if (rc < 0) throw new NativeError("uv_async_init", -rc);
  }

  /**
   * Let the intake forward in the signal handler itself: signal N goes to
   * process group pgid as sendAs[N] (0: dropped, -1 or missing: not there).
   * pgid 0 ends it. terminalFd >= 0: SIGCONT first gives that terminal's
   * foreground back to pgid (after Ctrl-Z and fg).
   */
  forwardSignals(pgid: number, sendAs: readonly number[], terminalFd = -1): void {
    const rc = this.#raw.forwardSignals(pgid, sendAs, terminalFd);
    if (rc < 0) throw new NativeError("forwardSignals", -rc);
  }

  /** The signal that stopped child pid since the last look (its stop report is consumed), 0 when none. */
  stoppedBy(pid: number): number {
    const rc = this.#raw.stoppedBy(pid);
    if (rc < 0) throw new NativeError("waitid", -rc);
    return rc;
  }

  /**
   * prctl(PR_SET_PDEATHSIG): signal comes when the parent dies. When the
   * parent is no longer parentAtStart (it died first), the signal is taken at
   * once and this returns true.
   */
  setParentDeathSignal(signal: number, parentAtStart: number): boolean {
    const rc = this.#raw.setParentDeathSignal(signal, parentAtStart);
    if (rc < 0) throw new NativeError("prctl(PR_SET_PDEATHSIG)", -rc);
    return rc === 1;
  }

  /**
   * fork+exec file in a new process group (and the terminal's foreground when
   * foregroundFd >= 0), with boxinit's own environment and argv bytes, fds
   * 3..3+preserveFds-1 inherited; returns the pid. The child belongs to the
   * reaper, not libuv. Throws NativeError with the errno of fork or exec.
   */
  spawnCommand(file: string, argv: readonly string[], foregroundFd: number, preserveFds: number): number {
    const rc = this.#raw.spawnCommand(file, argv, foregroundFd, preserveFds);
    if (rc < 0) throw new NativeError("exec", -rc);
    return rc;
  }

  /** pipe2(O_CLOEXEC): [readFd, writeFd]. */
  makePipe(): [number, number] {
    const result = this.#raw.makePipe();
    if (typeof result === "number") throw new NativeError("pipe2", -result);
    return result;
  }

  /**
   * fork+exec a service in a session of its own, stdin /dev/null, output on
   * the given fds (-1: inherited), as the given user. Returns the pid; throws
   * a NativeError whose call names the step that failed (chdir, setuid, exec, stdio).
   */
  spawnService(request: ServiceSpawn): number {
    const { file, argv, env, cwd = "", uid = -1, gid = -1, groups = [], outFd = -1, errFd = -1 } = request;
    const rc = this.#raw.spawnService(file, argv, env, cwd, uid, gid, groups, outFd, errFd);
    if (rc >= 0) return rc;
    const stage = SPAWN_STAGES[Math.floor(-rc / 1000)] ?? "exec";
    throw new NativeError(stage, -rc % 1000);
  }

  /** flock(fd, LOCK_EX|LOCK_NB): true when taken, false when another open file holds it. */
  tryLock(fd: number): boolean {
    const rc = this.#raw.tryLock(fd);
    if (rc < 0) throw new NativeError("flock", -rc);
    return rc === 1;
  }

  /** prctl(PR_SET_NAME): the name ps shows (at most 15 bytes). */
  setName(name: string): void {
    const rc = this.#raw.setName(name);
    if (rc < 0) throw new NativeError("prctl(PR_SET_NAME)", -rc);
  }

  /**
   * Children spawned by spawnService from now on get prctl(PR_SET_PDEATHSIG,
   * signal): they die with this process (0: no longer). Cleared by the kernel
   * when a child execs a setuid or file-capability program.
   */
  setChildDeathSignal(signal: number): void {
    const rc = this.#raw.setChildDeathSignal(signal);
    if (rc < 0) throw new NativeError("prctl(PR_SET_PDEATHSIG)", -rc);
  }

  /** openat(2) relative to a directory descriptor (O_CLOEXEC added); the new fd. `label` names the file in errors. */
  openAt(dirFd: number, name: string, flags: number, mode = 0, label = name): number {
    const rc = this.#raw.openAt(dirFd, name, flags, mode);
    if (rc < 0) throw new NativeError("openat", -rc, label);
    return rc;
  }

  /** mkdirat(2): the mode is filtered by the umask, as mkdir's is. */
  mkdirAt(dirFd: number, name: string, mode: number, label = name): void {
    const rc = this.#raw.mkdirAt(dirFd, name, mode);
    if (rc < 0) throw new NativeError("mkdirat", -rc, label);
  }

  /** renameat(2): replaces the entry at `to` itself (a symlink there is replaced, not followed). */
  renameAt(fromDirFd: number, from: string, toDirFd: number, to: string, label = to): void {
    const rc = this.#raw.renameAt(fromDirFd, from, toDirFd, to);
    if (rc < 0) throw new NativeError("renameat", -rc, label);
  }

  /** linkat(2) without AT_SYMLINK_FOLLOW: fails with EEXIST rather than replace `to`. */
  linkAt(fromDirFd: number, from: string, toDirFd: number, to: string, label = to): void {
    const rc = this.#raw.linkAt(fromDirFd, from, toDirFd, to);
    if (rc < 0) throw new NativeError("linkat", -rc, label);
  }

  /** unlinkat(2) (AT_REMOVEDIR when isDir): removes the entry, never what a symlink points to. */
  unlinkAt(dirFd: number, name: string, isDir = false, label = name): void {
    const rc = this.#raw.unlinkAt(dirFd, name, isDir ? 1 : 0);
    if (rc < 0) throw new NativeError("unlinkat", -rc, label);
  }

  /** fstatat(2) with AT_SYMLINK_NOFOLLOW. */
  statAt(dirFd: number, name: string, label = name): EntryStat {
    const result = this.#raw.statAt(dirFd, name);
    if (typeof result === "number") throw new NativeError("fstatat", -result, label);
    const [mode, size, mtimeMs, nlink, uid, ino] = result;
    return { mode, size, mtimeMs, nlink, uid, ino };
  }

  /** The printable-ASCII names in a directory read by its descriptor (see read_dir in native/boxinit.c). */
  readDir(dirFd: number, label = "."): string[] {
    const result = this.#raw.readDir(dirFd);
    if (typeof result === "number") throw new NativeError("readdir", -result, label);
    return result;
  }

  /**
   * execve(2) this executable again with its own argv and the current
   * environment, fds 0..inheritBelow-1 inherited (see exec_self in
   * native/boxinit.c). Returns only by throwing, when the exec failed.
   */
  execSelf(inheritBelow: number): never {
    const rc = this.#raw.execSelf(inheritBelow);
    throw new NativeError("execve", -rc);
  }

  /** tcgetpgrp(fd): the terminal's foreground process group. */
  getForeground(fd: number): number {
    const rc = this.#raw.getForeground(fd);
    if (rc < 0) throw new NativeError("tcgetpgrp", -rc);
    return rc;
  }

  /** Our own process group id. */
  getpgrp(): number {
    return this.#raw.getpgrp();
  }
}

/** Outcome of trying every place the addon may be. */
export type LoadResult = { native: Native; failures: string[] } | { native: undefined; failures: string[] };

/**
 * Load the addon: BOXINIT_ADDON alone when set (an operator's override, and how
 * tests simulate a missing addon); else the installed copy, the copy beside the
 * executable, then the copy embedded in the executable (written to a fresh 0700
 * directory, loaded, and deleted). Never throws: the caller decides how loudly
 * to run without it. Loaded once per process and override: later callers (the
 * host tool's lock, report and backoff writes) get the same result without
 * another extraction.
 */
export const loadNative = (env: NodeJS.ProcessEnv = process.env): LoadResult => {
  const key = env.BOXINIT_ADDON ?? "";
  const known = LOADED.get(key);
  if (known) return known;
  const result = loadNativeOnce(env);
  LOADED.set(key, result);
  return result;
};

const LOADED = new Map<string, LoadResult>();

const loadNativeOnce = (env: NodeJS.ProcessEnv): LoadResult => {
  const failures: string[] = [];
  const override = env.BOXINIT_ADDON;
  const candidates = override !== undefined && override !== ""
    ? [override]
    : [INSTALLED_ADDON_PATH, join(dirname(process.execPath), "boxinit.node")];
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    const native = tryLoad(path, path, failures);
    if (native) return { native, failures };
  }
  if (override === undefined || override === "") {
    const native = loadEmbedded(failures);
    if (native) return { native, failures };
  }
  return { native: undefined, failures };
};

const tryLoad = (path: string, source: string, failures: string[]): Native | undefined => {
  try {
    const module = { exports: {} as Record<string, unknown> };
    process.dlopen(module, path);
    const missing = REQUIRED_FUNCTIONS.filter((name) => typeof module.exports[name] !== "function");
    if (missing.length > 0) {
      failures.push(`${path}: an older addon without ${missing.join(", ")}`);
      return undefined;
    }
    return new Native(module.exports as unknown as RawAddon, source);
  } catch (error) {
    failures.push(`${path}: ${(error as Error).message.split("\n")[0]}`);
    return undefined;
  }
};

// /tmp and /run are read-only on a read-only root and /dev/shm is noexec in
// Docker, so several directories are tried; the first that lets dlopen map an
// executable page wins.
const EXTRACT_DIRS = (): string[] => [...new Set([os().tmpdir(), "/run", "/dev/shm"])];

const loadEmbedded = (failures: string[]): Native | undefined => {
  const bytes = readEmbeddedAddon(failures);
  if (!bytes) return undefined;
  for (const base of EXTRACT_DIRS()) {
    let dir: string | undefined;
    try {
      dir = mkdtempSync(join(base, "boxinit-"));
      const path = join(dir, "boxinit.node");
      writeFileSync(path, bytes, { mode: 0o500 });
      const native = tryLoad(path, "embedded copy", failures);
      if (native) return native;
    } catch (error) {
      failures.push(`embedded copy via ${base}: ${(error as Error).message.split("\n")[0]}`);
    } finally {
      // The mapping survives the unlink; nothing is left behind on disk.
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  return undefined;
};

const readEmbeddedAddon = (failures: string[]): Uint8Array | undefined => {
  try {
    const sea = process.getBuiltinModule("node:sea");
    if (!sea.isSea()) {
      failures.push("embedded copy: not running as the compiled executable");
      return undefined;
    }
    return new Uint8Array(sea.getRawAsset("boxinit.node"));
  } catch (error) {
    failures.push(`embedded copy: ${(error as Error).message.split("\n")[0]}`);
    return undefined;
  }
};

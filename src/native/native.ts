// The addon's system calls, typed: each -errno becomes a NativeError, each
// pair or array a named result. src/native/addon.ts loads the addon and makes one.
import { NativeError, errnoName, ERRNO } from "./native-error.ts";
import type { EntryStat, ForkSpec, Peek, SignalIntake } from "./native-types.ts";
import type { RawAddon } from "./raw.ts";

export type { EntryStat, ForkSpec, Peek, SignalIntake } from "./native-types.ts";

// The step of fork_exec's child (native/fork-exec.c) that failed, by its stage number.
const FORK_STAGES = ["exec", "chdir", "setuid", "stdio"] as const;

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
   * The relay's loop over whole lines (native/relay.c's prefixLines, see
   * log/line-relay.ts), or undefined when this copy of the addon lacks it.
   */
  lineFormatter(): RawAddon["prefixLines"] | undefined {
    const prefixLines = this.#raw.prefixLines;
    return typeof prefixLines === "function" ? prefixLines.bind(this.#raw) : undefined;
  }

  /**
   * fcntl(F_SETPIPE_SZ): the pipe fd is open on holds up to bytes; returns
   * the size it has now, or undefined when it could not grow (EPERM over the
   * limits, not a pipe) or this copy of the addon lacks growPipe.
   */
  growPipe(fd: number, bytes: number): number | undefined {
    const size = this.#raw.growPipe?.(fd, bytes);
    return size === undefined || size < 0 ? undefined : size;
  }

  /** O_NONBLOCK on fd: true when set, false when it could not be or this copy of the addon lacks setNonBlocking. */
  setNonBlocking(fd: number): boolean {
    return this.#raw.setNonBlocking?.(fd) === 0;
  }

  /**
   * An inotify watch on directory path, read on the event loop (native/dir-watch.c):
   * listener gets the entry names of each batch of events (null: the directory
   * itself, or events were lost) and, when reading broke the watch, the error.
   * Returns what ends the watch; undefined when this copy of the addon lacks it.
   * Throws the NativeError of inotify (ENOENT, ENOTDIR, ENOSPC: no watches left).
   */
  watchDir(path: string, listener: (names: ReadonlyArray<string | null>, error: NativeError | undefined) => void): (() => void) | undefined {
    const raw = this.#raw;
    if (typeof raw.watchDir !== "function" || typeof raw.closeDirWatch !== "function") return undefined;
    const fd = raw.watchDir(path, (names, result) => listener(names, result < 0 ? new NativeError("read inotify", -result, path) : undefined));
    if (fd < 0) throw new NativeError("inotify_add_watch", -fd, path);
    return () => void raw.closeDirWatch!(fd);
  }

  /** pipe2(O_CLOEXEC): [readFd, writeFd]. */
  makePipe(): [number, number] {
    const result = this.#raw.makePipe();
    if (typeof result === "number") throw new NativeError("pipe2", -result);
    return result;
  }

  /**
   * fork+exec (see fork_exec in native/fork-exec.c): returns the pid; the
   * child belongs to the reaper, not libuv. Throws a NativeError whose call
   * names the step that failed: exec (also for pipe2 and fork, boxinit's own
   * side), chdir, setuid, stdio.
   */
  forkExec(spec: ForkSpec): number {
    const rc = this.#raw.forkExec({
      file: spec.file,
      argv: spec.argv,
      env: spec.env ?? null,
      argvFromCmdline: spec.argvFromCmdline ?? false,
      cwd: spec.cwd ?? "",
      uid: spec.uid ?? -1,
      gid: spec.gid ?? -1,
      groups: spec.groups ?? [],
      newSession: spec.newSession,
      foregroundFd: spec.foregroundFd ?? -1,
      keepFds: spec.keepFds ?? 0,
      stdinNull: spec.stdinNull ?? false,
      outFd: spec.outFd ?? -1,
      errFd: spec.errFd ?? -1,
    });
    if (rc >= 0) return rc;
    const stage = FORK_STAGES[Math.floor(-rc / 1000)] ?? "exec";
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
   * Children forked from now on get prctl(PR_SET_PDEATHSIG,
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


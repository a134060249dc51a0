// The addon's functions as native/*.c export them: numbers in, -errno out
// (src/native/native.ts wraps them); what a loaded copy must have.
/** The raw functions exported by native/boxinit.c, fork-exec.c and signal-intake.c. */
export interface RawAddon {
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
  getForeground(fd: number): number;
  makePipe(): number | [number, number];
  forkExec(spec: RawForkSpec): number;
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
  /** native/relay.c; optional: a copy without it still loads, and the relay formats in JavaScript. */
  prefixLines?(input: Uint8Array, from: number, to: number, prefix: Uint8Array, output: Uint8Array, outAt: number, outEnd: number, maxLine: number, result: Int32Array): void;
  /** native/relay.c; optional as prefixLines: fcntl(F_SETPIPE_SZ), the new size or -errno. */
  growPipe?(fd: number, bytes: number): number;
  /** native/boxinit.c; optional: fcntl O_NONBLOCK, 0 or -errno (without it a check's output is read through node:net). */
  setNonBlocking?(fd: number): number;
  /** native/dir-watch.c; optional: an inotify watch on a directory, its fd or -errno (without it the backoff watch uses fs.watch). */
  watchDir?(path: string, callback: (names: ReadonlyArray<string | null>, result: number) => void): number;
  /** native/dir-watch.c; with watchDir: ends a watch, 0 or -errno. */
  closeDirWatch?(fd: number): number;
}


/** An older copy lacks some: it is refused, named with what it lacks. */
export const REQUIRED_FUNCTIONS: ReadonlyArray<keyof RawAddon> = [
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
  "getForeground",
  "makePipe",
  "forkExec",
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
/** forkExec's argument as native/fork-exec.c reads it: every field present. */
export interface RawForkSpec {
  file: string;
  argv: readonly string[];
  env: readonly string[] | null;
  argvFromCmdline: boolean;
  cwd: string;
  uid: number;
  gid: number;
  groups: readonly number[];
  newSession: boolean;
  foregroundFd: number;
  keepFds: number;
  stdinNull: boolean;
  outFd: number;
  errFd: number;
}


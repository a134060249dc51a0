// The shapes the typed addon (native.ts) takes and gives: what to fork, what
// a stat or a signal intake says, what a peek at the zombies finds.

/** What to fork and exec (see fork_exec in native/fork-exec.c); omitted fields keep boxinit's own. */
export interface ForkSpec {
  file: string;
  argv: readonly string[];
  /** KEY=VALUE strings; omitted: boxinit's own (C) environment, byte for byte. */
  env?: readonly string[];
  /** argv is the last argv.length entries of boxinit's own argv, byte for byte (argv is then the fallback). */
  argvFromCmdline?: boolean;
  /** true: a session of its own (setsid); false: a process group of its own in boxinit's session. */
  newSession: boolean;
  /** A terminal whose foreground the new process group takes. */
  foregroundFd?: number;
  /** fds 3..3+keepFds-1 are inherited. */
  keepFds?: number;
  /** stdin from /dev/null (else inherited). */
  stdinNull?: boolean;
  outFd?: number;
  errFd?: number;
  cwd?: string;
  uid?: number;
  gid?: number;
  groups?: readonly number[];
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

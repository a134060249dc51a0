// Errors that mean boxinit itself (or the machine) ran short of something a
// start needs, not that the command is wrong: a pipe, a process, memory. Such
// a start is tried again later and never blamed on the command (issue 13, bug 2).

/** errno name → what ran short, as the log says it. */
const SHORTAGES: Readonly<Record<string, string>> = {
  EMFILE: "boxinit is out of file descriptors (EMFILE: its open-file limit, ulimit -n, is reached)",
  ENFILE: "the system is out of file descriptors (ENFILE: the kernel's file table is full)",
  EAGAIN: "the system refused a new process (EAGAIN: a process or thread limit is reached, ulimit -u or the pids cgroup)",
  ENOMEM: "boxinit is out of memory (ENOMEM)",
};

/** What ran short, for an errno name (EMFILE, ...); undefined when the errno is not a shortage. */
export const describeShortage = (code: string | undefined): string | undefined =>
  code === undefined ? undefined : SHORTAGES[code];

/** The shortage behind an error (a NativeError or a Node errno exception), if it is one. */
export const shortageOf = (error: unknown): string | undefined => {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? describeShortage(code) : undefined;
};

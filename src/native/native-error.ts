// How a failed system call of the addon reads: the errno's name, the call,
// the file it was about. Errno names come from node:os, loaded only when one is worded.
// node:os and node:sea are loaded only on the paths that need them (error
// wording, the embedded copy): each costs PID 1 start-up time.
const os = (): typeof import("node:os") => process.getBuiltinModule("node:os");

/** Linux errno values the wrapper acts on (checked against os.constants in tests). */
export const ERRNO = { ECHILD: 10 } as const;

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

/** The name of a Linux errno (ENOENT ...), or "errno N". */
export const errnoName = (errno: number): string => {
  for (const [name, value] of Object.entries(os().constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
};


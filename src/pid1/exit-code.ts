// How a child's end becomes boxinit's exit code: the shell's conventions
// (128+N for signal N, 126/127 for exec failures) plus the user's remap table.

/** How a process ended: exactly one of code or signal (its number) is set. */
export interface Ending {
  code: number | null;
  signal: number | null;
}

/** Exit codes boxinit itself uses. */
export const EXIT = {
  usage: 2,
  notExecutable: 126,
  notFound: 127,
  internal: 70,
  /** A service could not be brought up: pidfile missing or stale, warm-up timed out (sysexits EX_UNAVAILABLE). */
  unavailable: 69,
  /** boxinit ran short of fds, processes or memory to start something (sysexits EX_OSERR: "cannot fork", "cannot create pipe"). */
  osError: 71,
  /** Something had to be killed at the deadline (128 + SIGKILL). */
  killed: 137,
} as const;

/** Ending to shell-style code: the code itself, or 128+signal number. */
export const exitCodeFor = (ending: Ending): number => {
  if (ending.code !== null) return ending.code & 0xff;
  if (ending.signal !== null) return (128 + ending.signal) & 0xff;
  return EXIT.internal;
};

/** A raw waitpid status to an Ending (real-time signals included, unlike Node's 'exit'). */
export const decodeWaitStatus = (status: number): Ending => {
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: termSignal };
};

export type RemapTable = ReadonlyMap<number, number>;

/** Parse `--remap-exit FROM:TO` values; errors name the bad value. */
export const parseRemaps = (values: readonly string[]): { table: RemapTable; errors: string[] } => {
  const table = new Map<number, number>();
  const errors: string[] = [];
  for (const value of values) {
    const match = /^(\d{1,3}):(\d{1,3})$/.exec(value);
    const from = match ? Number(match[1]) : Number.NaN;
    const to = match ? Number(match[2]) : Number.NaN;
    if (!match || from > 255 || to > 255) {
      errors.push(`--remap-exit: expected FROM:TO with codes 0-255 (e.g. 143:0), got ${JSON.stringify(value)}`);
      continue;
    }
    table.set(from, to);
  }
  return { table, errors };
};

/** Apply the remap table (one step, not transitive: 143:0 and 0:1 do not chain). */
export const remapExitCode = (code: number, table: RemapTable): number => table.get(code) ?? code;

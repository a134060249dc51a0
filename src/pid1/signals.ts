// Signals are data: which ones boxinit handles, what each one starts, and the
// user's rewrite table (dumb-init --rewrite style). No process work here.
import { constants } from "node:os";

/** What receiving a signal does. */
export type SignalRoute = "shutdown" | "forward";

/** Name → number, as the kernel numbers them on this platform. */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = constants.signals;

/** Number → canonical name (SIGIO over SIGPOLL, SIGABRT over SIGIOT). */
export const SIGNAL_NAMES: Readonly<Record<number, NodeJS.Signals>> = (() => {
  const names: Record<number, NodeJS.Signals> = {};
  for (const [name, number] of Object.entries(constants.signals)) {
    if (!(number in names)) names[number] = name as NodeJS.Signals;
  }
  return names;
})();

/**
 * Every signal boxinit installs a handler for, and its route. Left out on
 * purpose: SIGKILL/SIGSTOP (cannot be caught), SIGCHLD (the reaper's),
 * SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGTRAP/SIGABRT/SIGSYS (synchronous faults of
 * boxinit itself: forwarding them would hide our own crash, as tini decides too).
 * Real-time signals are not listed: Node cannot install handlers for them.
 */
export const SIGNAL_ROUTES: Readonly<Partial<Record<NodeJS.Signals, SignalRoute>>> = {
  SIGTERM: "shutdown",
  SIGINT: "shutdown",
  SIGQUIT: "shutdown",
  SIGHUP: "forward",
  SIGUSR1: "forward", // handling it also keeps Node from opening its inspector on 127.0.0.1:9229
  SIGUSR2: "forward",
  SIGPIPE: "forward",
  SIGALRM: "forward",
  SIGSTKFLT: "forward",
  SIGCONT: "forward",
  SIGTSTP: "forward",
  SIGTTIN: "forward",
  SIGTTOU: "forward",
  SIGURG: "forward",
  SIGXCPU: "forward",
  SIGXFSZ: "forward",
  SIGVTALRM: "forward",
  SIGPROF: "forward",
  SIGWINCH: "forward",
  SIGIO: "forward",
  SIGPWR: "forward",
};

/** The handled signals, in a stable order. */
export const HANDLED_SIGNALS = Object.keys(SIGNAL_ROUTES) as NodeJS.Signals[];

/** `TERM`, `SIGTERM`, `sigterm` or `15` → signal number; 0 means "drop". */
export const parseSignal = (text: string): number | undefined => {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const number = Number(trimmed);
    return number === 0 || SIGNAL_NAMES[number] ? number : undefined;
  }
  const upper = trimmed.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  return SIGNAL_NUMBERS[name];
};

/** Rewrite table: received signal number → signal number sent (0: not sent). */
export type RewriteTable = ReadonlyMap<number, number>;

/** Parse `--rewrite FROM:TO` values; errors name the bad value. */
export const parseRewrites = (values: readonly string[]): { table: RewriteTable; errors: string[] } => {
  const table = new Map<number, number>();
  const errors: string[] = [];
  for (const value of values) {
    const [fromText, toText, ...rest] = value.split(":");
    const from = fromText === undefined ? undefined : parseSignal(fromText);
    const to = toText === undefined ? undefined : parseSignal(toText);
    if (rest.length > 0 || from === undefined || from === 0 || to === undefined) {
      errors.push(`--rewrite: expected FROM:TO signal names or numbers (e.g. TERM:QUIT, WINCH:0), got ${JSON.stringify(value)}`);
      continue;
    }
    table.set(from, to);
  }
  return { table, errors };
};

/** The signal actually sent for a received one; 0 when the rewrite drops it. */
export const rewriteSignal = (received: number, table: RewriteTable): number => table.get(received) ?? received;

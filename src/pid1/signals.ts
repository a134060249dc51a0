// Signals are data: which ones boxinit handles, what each one starts, and the
// user's rewrite table (dumb-init --rewrite style). No process work here.

/** What receiving a signal does. */
export type SignalRoute = "shutdown" | "forward";

/**
 * Name → number as Linux numbers them (the same on x86-64 and arm64). Written
 * out rather than read from node:os because loading that module costs PID 1
 * start-up time; test/pid1/signals.test.ts checks it against os.constants.
 */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7,
  SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14,
  SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21,
  SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
  SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
};

/** Number → canonical name (SIGABRT over SIGIOT, SIGIO over SIGPOLL: the first listed). */
export const SIGNAL_NAMES: Readonly<Record<number, NodeJS.Signals>> = (() => {
  const names: Record<number, NodeJS.Signals> = {};
  for (const [name, number] of Object.entries(SIGNAL_NUMBERS)) {
    if (!(number in names)) names[number] = name as NodeJS.Signals;
  }
  return names;
})();

/**
 * Every signal boxinit takes, and its route: all of 1..31 but SIGKILL/SIGSTOP
 * (cannot be caught) and SIGCHLD (the reaper's). The addon's intake
 * (native/signal-intake.c) tells a signal sent by another process from one
 * the kernel raises for boxinit itself: sent, every one here is forwarded (or
 * starts the stop), the fault-named ones too; raised by the kernel, a real
 * fault still crashes boxinit, and SIGPIPE/SIGXFSZ from its own writes,
 * SIGTTIN/SIGTTOU from its own terminal I/O and SIGXCPU for its own CPU limit
 * stay harmless. Real-time signals are not taken: nothing sends them to an init.
 */
export const SIGNAL_ROUTES: Readonly<Partial<Record<NodeJS.Signals, SignalRoute>>> = {
  SIGTERM: "shutdown",
  SIGINT: "shutdown",
  SIGQUIT: "shutdown",
  SIGHUP: "forward",
  SIGILL: "forward",
  SIGTRAP: "forward",
  SIGABRT: "forward",
  SIGBUS: "forward",
  SIGFPE: "forward",
  SIGUSR1: "forward", // taking it also keeps Node from opening its inspector on 127.0.0.1:9229
  SIGSEGV: "forward",
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
  SIGSYS: "forward",
};

/**
 * The ones only the intake can take safely, because only siginfo tells sent
 * from raised: without the addon (Node's process.on) they keep Node's
 * dispositions (faults crash, PIPE/XFSZ ignored, TTIN/TTOU stop as usual).
 */
export const NEEDS_SIGINFO: ReadonlySet<NodeJS.Signals> = new Set([
  "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV", "SIGSYS", "SIGPIPE", "SIGXFSZ", "SIGTTIN", "SIGTTOU",
] as NodeJS.Signals[]);

/** A signal number for the log: its name, or "signal N" for real-time ones. */
export const signalLabel = (signal: number): string => SIGNAL_NAMES[signal] ?? `signal ${signal}`;

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

// Why a signal outside SIGNAL_ROUTES can never reach a rewrite.
const NEVER_RECEIVED: Readonly<Partial<Record<NodeJS.Signals, string>>> = {
  SIGKILL: "it cannot be caught",
  SIGSTOP: "it cannot be caught",
  SIGCHLD: "it tells boxinit's reaper that a child ended; it is never forwarded",
};

/** Why a received signal can never be rewritten, or undefined when boxinit handles it. */
export const whyNeverRewritten = (signal: number): string | undefined => {
  const name = SIGNAL_NAMES[signal];
  if (name !== undefined && SIGNAL_ROUTES[name] !== undefined) return undefined;
  return (name && NEVER_RECEIVED[name]) ?? "it is not a signal boxinit takes";
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
    const never = whyNeverRewritten(from);
    if (never !== undefined) {
      errors.push(`--rewrite ${value}: ${signalLabel(from)} never reaches boxinit's signal routing: ${never}`);
      continue;
    }
    table.set(from, to);
  }
  return { table, errors };
};

/** The signal actually sent for a received one; 0 when the rewrite drops it. */
export const rewriteSignal = (received: number, table: RewriteTable): number => table.get(received) ?? received;

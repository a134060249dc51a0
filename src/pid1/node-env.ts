// The environment variables Node (and libuv, OpenSSL, ICU under it) acts on
// are the container's, meant for the command, not for PID 1 (issue 13, bug 7).
// At start-up boxinit takes them out of its own environment, so the parts of
// Node that read them lazily (UV_THREADPOOL_SIZE at the first thread-pool job,
// NODE_TLS_REJECT_UNAUTHORIZED at the first TLS connection, ...) see nothing,
// and gives their original values back to every process it starts. The ones
// Node reads before any of boxinit's code runs are answered in sea-config.json
// (execArgvExtension none for NODE_OPTIONS, --icu-data-dir, --openssl-config,
// --no-warnings); see docs/node-environment.md for each variable.
import { readFileSync } from "node:fs";

/** Every variable Node 24, libuv and its OpenSSL/ICU read, by name (docs/node-environment.md). */
export const NODE_VARIABLES: readonly string[] = [
  "NODE_OPTIONS", "NODE_V8_COVERAGE", "NODE_COMPILE_CACHE", "NODE_COMPILE_CACHE_PORTABLE", "NODE_DISABLE_COMPILE_CACHE",
  "NODE_DEBUG", "NODE_DEBUG_NATIVE", "NODE_EXTRA_CA_CERTS", "NODE_ICU_DATA", "NODE_NO_WARNINGS", "NODE_PATH",
  "NODE_PENDING_DEPRECATION", "NODE_PENDING_PIPE_INSTANCES", "NODE_PRESERVE_SYMLINKS", "NODE_REDIRECT_WARNINGS",
  "NODE_REPL_EXTERNAL_MODULE", "NODE_REPL_HISTORY", "NODE_SKIP_PLATFORM_CHECK", "NODE_TEST_CONTEXT",
  "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_USE_ENV_PROXY", "NODE_USE_SYSTEM_CA", "NODE_DISABLE_COLORS", "FORCE_COLOR", "NO_COLOR",
  "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE", "NODE_UNIQUE_ID", "NODE_CLUSTER_SCHED_POLICY",
  "UV_THREADPOOL_SIZE", "UV_USE_IO_URING", "OPENSSL_CONF", "SSL_CERT_DIR", "SSL_CERT_FILE",
];

/**
 * Boxinit's private variable that carries the Node variables' original values
 * across a fresh start (pid1/node-env-restart.ts); it is never given to a child.
 */
export const CARRIED_VARIABLE = "BOXINIT_NODE_ENVIRONMENT";

// Kept on globalThis, not in this module: the lazy bundles (modes, host) are
// built apart from the main one, each with its own copy of this module.
const TAKEN = Symbol.for("boxinit.nodeEnvironment");
const RESTARTED = Symbol.for("boxinit.nodeEnvironmentRestarted");
type Holder = { [TAKEN]?: Readonly<Record<string, string>>; [RESTARTED]?: boolean };
const taken = (): Readonly<Record<string, string>> => (globalThis as Holder)[TAKEN] ?? {};

/**
 * The values as the container gave them: /proc/self/environ is the block
 * execve passed, which Node's own rewrites (NODE_V8_COVERAGE made absolute,
 * NODE_CHANNEL_FD and NODE_UNIQUE_ID deleted) do not touch.
 */
const originalEnvironment = (): Map<string, string> => {
  const values = new Map<string, string>();
  try {
    for (const entry of readFileSync("/proc/self/environ", "latin1").split("\0")) {
      const equals = entry.indexOf("=");
      if (equals > 0) values.set(entry.slice(0, equals), Buffer.from(entry.slice(equals + 1), "latin1").toString());
    }
  } catch {
    // No /proc: what process.env still holds is the best there is.
    for (const name of NODE_VARIABLES) if (process.env[name] !== undefined) values.set(name, process.env[name]!);
  }
  return values;
};

/**
 * The carried values, as encoded by carryNodeEnvironment (only names of
 * NODE_VARIABLES with string values are taken); undefined when the text is
 * not that encoding, which then counts as no fresh start.
 */
const decodeCarried = (text: string | undefined): Map<string, string> | undefined => {
  if (text === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(text, "base64url").toString());
  } catch {
    return undefined;
  }
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) return undefined;
  const values = new Map<string, string>();
  for (const name of NODE_VARIABLES) {
    const value = (decoded as Record<string, unknown>)[name];
    if (typeof value === "string") values.set(name, value);
  }
  return values;
};

/**
 * Take the Node variables out of boxinit's own environment; call first thing,
 * once. After a fresh start their values come from CARRIED_VARIABLE, which is taken out too.
 */
export const takeNodeEnvironment = (): void => {
  const carried = decodeCarried(process.env[CARRIED_VARIABLE]);
  delete process.env[CARRIED_VARIABLE];
  const original = carried ?? originalEnvironment();
  const saved: Record<string, string> = {};
  for (const name of NODE_VARIABLES) {
    const value = original.get(name);
    if (value !== undefined) saved[name] = value;
    delete process.env[name];
  }
  (globalThis as Holder)[TAKEN] = saved;
  (globalThis as Holder)[RESTARTED] = carried !== undefined;
};

/** Whether this process is boxinit's fresh start (it found CARRIED_VARIABLE): it never starts afresh again. */
export const isFreshStart = (): boolean => (globalThis as Holder)[RESTARTED] === true;

/** The Node variables taken at start-up, encoded for CARRIED_VARIABLE. */
export const carryNodeEnvironment = (): string => Buffer.from(JSON.stringify(taken())).toString("base64url");

/** The Node variables taken at start-up, as the container set them: every child gets them back. */
export const nodeEnvironment = (): Readonly<Record<string, string>> => taken();

/** boxinit's environment as its children see it: its own plus the Node variables given back. */
export const childEnvironment = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({ ...base, ...taken() });

/**
 * Run fn (a synchronous spawn that passes boxinit's C environment on, such as
 * the addon's forkExec without env, in pid1/spawn.ts) with the Node variables back in place, then take them out again.
 */
export const withNodeEnvironment = <T>(fn: () => T): T => {
  const values = taken();
  Object.assign(process.env, values);
  try {
    return fn();
  } finally {
    for (const name of Object.keys(values)) delete process.env[name];
  }
};

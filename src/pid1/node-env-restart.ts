// The Node variables that act before any of boxinit's code runs (issue 13,
// bug 7): NODE_V8_COVERAGE starts coverage (a file written at exit),
// NODE_COMPILE_CACHE enables a compile cache, NODE_DEBUG / NODE_DEBUG_NATIVE
// turn on Node's debug lines, NODE_CHANNEL_FD opens an IPC channel (a fd that
// is not a socket aborts the process at the first event-loop turn). No
// JavaScript undoes them, so when one is set boxinit starts afresh without
// them: a raw execve of itself (the addon) before the first event-loop turn,
// their values carried in node-env's CARRIED_VARIABLE. With none set, the
// usual case, this costs one lookup. docs/node-environment.md has each variable.
import { lstatSync, readdirSync, rmdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeLine } from "../log/logger.ts";
import { loadNative } from "../native/addon.ts";
import { CARRIED_VARIABLE, carryNodeEnvironment, isFreshStart, nodeEnvironment } from "./node-env.ts";
import { firstOwnFd } from "./own-fds.ts";

/** The Node variables that act before boxinit's first line, each when it is not empty. */
export const ACTING_BEFORE_START: readonly string[] = ["NODE_V8_COVERAGE", "NODE_COMPILE_CACHE", "NODE_DEBUG", "NODE_DEBUG_NATIVE", "NODE_CHANNEL_FD"];

/**
 * Start boxinit afresh when Node acted on one of ACTING_BEFORE_START: call
 * right after takeNodeEnvironment. Returns only when nothing had to be done,
 * or (with a warning) when the new start was impossible.
 */
export const startAfreshWithoutNodeVariables = (): void => {
  if (isFreshStart()) return;
  const values = nodeEnvironment();
  const acting = ACTING_BEFORE_START.filter((name) => (values[name] ?? "") !== "");
  if (acting.length === 0) return;
  if (acting.includes("NODE_COMPILE_CACHE")) removeCompileCacheDirectories();
  const { native, failures } = loadNative();
  if (!native) return warnStillActing(acting, `the addon did not load (${failures.join("; ")})`);
  process.env[CARRIED_VARIABLE] = carryNodeEnvironment();
  try {
    native.execSelf(firstOwnFd() ?? 3);
  } catch (error) {
    delete process.env[CARRIED_VARIABLE];
    warnStillActing(acting, (error as Error).message);
  }
};

/**
 * Node made NODE_COMPILE_CACHE's directory (DIR/v24.21.0-x64-HASH-UID and any
 * missing parent, as boxinit's user) before boxinit's first line. Left behind,
 * a root-owned DIR would keep the app's own user from caching there. Removed
 * from the deepest level up while a level is an empty directory born after
 * this process started (performance.timeOrigin); anything older, not empty or
 * without a birth time stays. Strictly after: a directory made just before
 * boxinit was exec'd (an entrypoint's mkdir -p) is born ~10 ms before
 * timeOrigin, Node's own 20-100 ms after it (measured), and the kernel's coarse
 * clock can only make a birth look earlier, which leaves the directory: safe.
 */
const removeCompileCacheDirectories = (): void => {
  const made = process.getBuiltinModule("node:module").getCompileCacheDir();
  if (made === undefined) return;
  const startedMs = performance.timeOrigin;
  for (let level = made; level !== dirname(level); level = dirname(level)) {
    try {
      const stat = lstatSync(level);
      if (!stat.isDirectory() || stat.birthtimeMs < startedMs || readdirSync(level).length > 0) return;
      rmdirSync(level);
    } catch {
      return; // gone meanwhile or not removable: what is left is not for boxinit to touch
    }
  }
};

const warnStillActing = (acting: readonly string[], why: string): void => {
  writeLine(2, `boxinit: warning: node-environment: ${acting.join(", ")} still act${acting.length === 1 ? "s" : ""} in this boxinit: it cannot start afresh without ${acting.length === 1 ? "it" : "them"}: ${why}\n`);
};

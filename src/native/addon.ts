// The only importer of boxinit.node: finds a loadable copy, checks it, and
// makes it a Native (native.ts: its calls, typed). What the rest of boxinit
// imports of native/ comes from here.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Native } from "./native.ts";
import { REQUIRED_FUNCTIONS, type RawAddon } from "./raw.ts";

export { ERRNO, NativeError } from "./native-error.ts";
export { Native, type EntryStat, type ForkSpec, type Peek, type SignalIntake } from "./native.ts";

// node:os and node:sea are loaded only on the paths that need them (the
// temporary directory, the embedded copy): each costs PID 1 start-up time.
const os = (): typeof import("node:os") => process.getBuiltinModule("node:os");

/** Where a packaged install (the base image) puts the addon: an exec-capable root. */
export const INSTALLED_ADDON_PATH = "/usr/lib/boxinit/boxinit.node";

/** Outcome of trying every place the addon may be. */
export type LoadResult = { native: Native; failures: string[] } | { native: undefined; failures: string[] };

/**
 * Load the addon: BOXINIT_ADDON alone when set (an operator's override, and how
 * tests simulate a missing addon); else the installed copy, the copy beside the
 * executable, then the copy embedded in the executable (written to a fresh 0700
 * directory, loaded, and deleted). Never throws: the caller decides how loudly
 * to run without it. Loaded once per process and override: later callers (the
 * host tool's lock, report and backoff writes) get the same result without
 * another extraction.
 */
export const loadNative = (env: NodeJS.ProcessEnv = process.env): LoadResult => {
  const key = env.BOXINIT_ADDON ?? "";
  const known = LOADED.get(key);
  if (known) return known;
  const result = loadNativeOnce(env);
  LOADED.set(key, result);
  return result;
};

const LOADED = new Map<string, LoadResult>();

const loadNativeOnce = (env: NodeJS.ProcessEnv): LoadResult => {
  const failures: string[] = [];
  const override = env.BOXINIT_ADDON;
  const candidates = override !== undefined && override !== ""
    ? [override]
    : [INSTALLED_ADDON_PATH, join(dirname(process.execPath), "boxinit.node")];
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    const native = tryLoad(path, path, failures);
    if (native) return { native, failures };
  }
  if (override === undefined || override === "") {
    const native = loadEmbedded(failures);
    if (native) return { native, failures };
  }
  return { native: undefined, failures };
};

const tryLoad = (path: string, source: string, failures: string[]): Native | undefined => {
  try {
    const module = { exports: {} as Record<string, unknown> };
    process.dlopen(module, path);
    const missing = REQUIRED_FUNCTIONS.filter((name) => typeof module.exports[name] !== "function");
    if (missing.length > 0) {
      failures.push(`${path}: an older addon without ${missing.join(", ")}`);
      return undefined;
    }
    return new Native(module.exports as unknown as RawAddon, source);
  } catch (error) {
    failures.push(`${path}: ${(error as Error).message.split("\n")[0]}`);
    return undefined;
  }
};

// /tmp and /run are read-only on a read-only root and /dev/shm is noexec in
// Docker, so several directories are tried; the first that lets dlopen map an
// executable page wins.
const EXTRACT_DIRS = (): string[] => [...new Set([os().tmpdir(), "/run", "/dev/shm"])];

const loadEmbedded = (failures: string[]): Native | undefined => {
  const bytes = readEmbeddedAddon(failures);
  if (!bytes) return undefined;
  for (const base of EXTRACT_DIRS()) {
    let dir: string | undefined;
    try {
      dir = mkdtempSync(join(base, "boxinit-"));
      const path = join(dir, "boxinit.node");
      writeFileSync(path, bytes, { mode: 0o500 });
      const native = tryLoad(path, "embedded copy", failures);
      if (native) return native;
    } catch (error) {
      failures.push(`embedded copy via ${base}: ${(error as Error).message.split("\n")[0]}`);
    } finally {
      // The mapping survives the unlink; nothing is left behind on disk.
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  return undefined;
};

const readEmbeddedAddon = (failures: string[]): Uint8Array | undefined => {
  try {
    const sea = process.getBuiltinModule("node:sea");
    if (!sea.isSea()) {
      failures.push("embedded copy: not running as the compiled executable");
      return undefined;
    }
    return new Uint8Array(sea.getRawAsset("boxinit.node"));
  } catch (error) {
    failures.push(`embedded copy: ${(error as Error).message.split("\n")[0]}`);
    return undefined;
  }
};

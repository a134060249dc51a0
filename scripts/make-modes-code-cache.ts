// Build step: the V8 code cache of the "modes" bundle (build/lazy/modes.cjs →
// build/lazy/modes.cache), made from a real Mini-VM start up to `running`.
// V8 compiles a function the first time it runs; a cache made right after the
// bundle's top level holds almost none of the functions a start calls, which
// then cost ~8 ms of compiling on every start (docs/resources.md). So the
// bundle runs its own miniVmMode here, with the addon (BOXINIT_ADDON) and a
// config of one service with a command warm-up in a temporary directory, and
// the cache is taken the moment the status file says `running`; then backoff
// stops the box. Run with the executable's own Node (V8 rejects another's cache).
// usage: node scripts/make-modes-code-cache.ts BUNDLE OUTPUT ADDON
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { parseInitArgs } from "../src/cli/args.ts";
import { wrapBundle } from "../src/lazy/loader.ts";
import type * as ModesBundle from "../src/modes/modes-bundle.ts";

const [bundlePath, outputPath, addonPath] = process.argv.slice(2);
if (!bundlePath || !outputPath || !addonPath) throw new Error("usage: node scripts/make-modes-code-cache.ts BUNDLE OUTPUT ADDON");

// How long the warm-up box may take to reach `running` before the build fails.
const RUNNING_DEADLINE_MS = 20_000;
const POLL_MS = 2;

const dir = mkdtempSync(join(tmpdir(), "boxinit-code-cache-"));
const stateDir = join(dir, "state");
const configPath = join(dir, "boxinit.yaml");
// As bench scenario 7's box: one service, a warm-up command that passes at once.
writeFileSync(configPath, [
  `state_dir: ${stateDir}`,
  `init_dir: ${join(dir, "init.d")}`,
  `finish_dir: ${join(dir, "finish.d")}`,
  "grace: 5s",
  "services:",
  "  app:",
  "    command: [/bin/sleep, \"60\"]",
  "    warmup:",
  "      command: [/bin/true]",
  "",
].join("\n"));

// The bundle loads yaml through loadLibrary, which outside the executable
// imports ./yaml.ts: named as if it sat in src/lazy/, the bundle finds the
// source there (the name is not part of what V8 checks before using a cache).
const script = new vm.Script(wrapBundle(readFileSync(bundlePath, "utf8")), {
  filename: fileURLToPath(new URL("../src/lazy/modes.cjs", import.meta.url)),
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const module = { exports: {} as unknown };
const require = createRequire(import.meta.url);
(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, (id: string) => require(id), module, "lazy/modes.cjs", "lazy");
const { miniVmMode } = module.exports as typeof ModesBundle;

const readStatus = (): string => {
  try {
    return readFileSync(join(stateDir, "status"), "utf8").trim();
  } catch {
    return "";
  }
};

// The cache at `running`, then backoff ends the run.
const takeCacheAtRunning = async (): Promise<void> => {
  const deadline = Date.now() + RUNNING_DEADLINE_MS;
  while (readStatus() !== "running") {
    if (Date.now() > deadline) throw new Error(`make-modes-code-cache: the warm-up box did not reach running in ${RUNNING_DEADLINE_MS} ms (status: ${readStatus() || "none"})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  writeFileSync(outputPath, script.createCachedData());
  writeFileSync(join(stateDir, "backoff"), "true\n");
};

// In-process, the run takes the signals and the addon's intake keeps the event
// loop alive: the script ends with process.exit, as boxinit's main does.
const warmUp = async (): Promise<void> => {
  const parsed = parseInitArgs(["-q", "--config", configPath], process.env);
  if (!parsed.ok) throw new Error(`make-modes-code-cache: ${parsed.errors.join("; ")}`);
  process.env.BOXINIT_ADDON = addonPath;
  const [code] = await Promise.all([miniVmMode(parsed.args, {}, "the build's code cache warm-up"), takeCacheAtRunning()]);
  if (code !== 0) throw new Error(`make-modes-code-cache: the warm-up box exited ${code}, expected 0 (backoff)`);
};

warmUp().then(
  () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  },
);

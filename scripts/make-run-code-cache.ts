// Build step: the V8 code cache of one of boxinit's run bundles (mini-vm, job,
// side: build/lazy/KIND.cjs → build/lazy/KIND.cache), made from a real run of
// that kind. V8 compiles a function the first time it runs; a cache made right
// after the bundle's top level holds almost none of the functions a run calls,
// which then cost ~8 ms of compiling on every start (docs/resources.md). So the
// bundle runs here, in this process, with the addon (BOXINIT_ADDON), in a
// temporary directory:
//   mini-vm: a box of one service with a command warm-up; the cache is taken
//            the moment the status file says `running`, then backoff stops it;
//   job:     `boxinit job` of /bin/false (a failure: its report and record);
//   side:    `boxinit health` and `boxinit status` of a running box's state
//            directory (its files written here).
// Run with the executable's own Node (V8 rejects another's cache).
// usage: node scripts/make-run-code-cache.ts KIND BUNDLE OUTPUT ADDON
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { parseInitArgs } from "../src/cli/args.ts";
import { serializeStatus, type StatusSnapshot } from "../src/control/status-file.ts";
import { wrapBundle } from "../src/lazy/loader.ts";
import type * as MiniVmBundle from "../src/modes/mini-vm-bundle.ts";
import type * as JobBundle from "../src/modes/job-bundle.ts";
import type * as SideBundle from "../src/modes/side-bundle.ts";

const [kind, bundlePath, outputPath, addonPath] = process.argv.slice(2);
if (!kind || !bundlePath || !outputPath || !addonPath) throw new Error("usage: node scripts/make-run-code-cache.ts mini-vm|job|side BUNDLE OUTPUT ADDON");

// How long the warm-up box may take to reach `running` before the build fails.
const RUNNING_DEADLINE_MS = 20_000;
const POLL_MS = 2;

const dir = mkdtempSync(join(tmpdir(), "boxinit-code-cache-"));
const stateDir = join(dir, "state");
process.env.BOXINIT_ADDON = addonPath;

// The bundles load yaml through loadLibrary, which outside the executable
// imports ./yaml.ts: named as if it sat in src/lazy/, the bundle finds the
// source there (the name is not part of what V8 checks before using a cache).
const script = new vm.Script(wrapBundle(readFileSync(bundlePath, "utf8")), {
  filename: fileURLToPath(new URL(`../src/lazy/${kind}.cjs`, import.meta.url)),
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const module = { exports: {} as unknown };
const require = createRequire(import.meta.url);
(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, (id: string) => require(id), module, `lazy/${kind}.cjs`, "lazy");

const expectCode = (what: string, code: number, expected: number): void => {
  if (code !== expected) throw new Error(`make-run-code-cache: ${what} exited ${code}, expected ${expected}`);
};

// As bench scenario 7's box: one service, a warm-up command that passes at once.
const writeBoxConfig = (): string => {
  const configPath = join(dir, "boxinit.yaml");
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
  return configPath;
};

const readStatus = (): string => {
  try {
    return readFileSync(join(stateDir, "status"), "utf8").trim();
  } catch {
    return "";
  }
};

const untilRunning = async (): Promise<void> => {
  const deadline = Date.now() + RUNNING_DEADLINE_MS;
  while (readStatus() !== "running") {
    if (Date.now() > deadline) throw new Error(`make-run-code-cache: the warm-up box did not reach running in ${RUNNING_DEADLINE_MS} ms (status: ${readStatus() || "none"})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
};

// A Mini-VM box to `running` (the cache is taken there), then backoff ends it.
const miniVm = async (): Promise<void> => {
  const { miniVmMode } = module.exports as typeof MiniVmBundle;
  const parsed = parseInitArgs(["-q", "--config", writeBoxConfig()], process.env);
  if (!parsed.ok) throw new Error(`make-run-code-cache: ${parsed.errors.join("; ")}`);
  const takeCacheAtRunning = async (): Promise<void> => {
    await untilRunning();
    writeFileSync(outputPath, script.createCachedData());
    writeFileSync(join(stateDir, "backoff"), "true\n");
  };
  const [code] = await Promise.all([miniVmMode(parsed.args, {}, "the build's code cache warm-up"), takeCacheAtRunning()]);
  expectCode("the warm-up box", code, 0);
};

// A failing job (its report and record too), with no config. One run only:
// each run boots PID 1's duties (reaper, signal intake) for the process.
const job = async (): Promise<void> => {
  const { jobMode } = module.exports as typeof JobBundle;
  expectCode("the warm-up job", await jobMode(["warm-up", "-q", "--state-dir", stateDir, "--", "/bin/false"], {}), 1);
  writeFileSync(outputPath, script.createCachedData());
};

// The exec probe and the status of a running box (this process), both kinds of probe.
const side = async (): Promise<void> => {
  const { SIDE_COMMANDS } = module.exports as typeof SideBundle;
  const now = new Date().toISOString();
  const snapshot: StatusSnapshot = {
    state: "running", since: now, pid: process.pid, version: "warm-up", backoff: false, heartbeatMs: 30_000,
    services: { app: { state: "running", pid: process.pid, restarts: 0, lastExit: null, readyAt: now } },
  };
  mkdirSync(stateDir);
  writeFileSync(join(stateDir, "status.json"), serializeStatus(snapshot, now, {}));
  writeFileSync(join(stateDir, "status"), "running\n");
  // What they print goes to this script's stdout (the Makefile drops it).
  expectCode("boxinit health", await SIDE_COMMANDS.health!(["--state-dir", stateDir]), 0);
  expectCode("boxinit health --live", await SIDE_COMMANDS.health!(["--state-dir", stateDir, "--live"]), 0);
  expectCode("boxinit status", await SIDE_COMMANDS.status!(["--state-dir", stateDir]), 0);
  writeFileSync(outputPath, script.createCachedData());
};

const RUNS: Record<string, () => Promise<void>> = { "mini-vm": miniVm, job, side };

// In-process, a run takes the signals and the addon's intake keeps the event
// loop alive: the script ends with process.exit, as boxinit's main does.
const run = RUNS[kind];
if (!run) throw new Error(`make-run-code-cache: unknown kind ${JSON.stringify(kind)} (mini-vm, job, side)`);
run().then(
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

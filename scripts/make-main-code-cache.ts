// Build step: the V8 code cache of the main bundle (build/boxinit.cjs →
// build/main.cache), which src/sea-main.cjs, the executable's entry, compiles
// the bundle with. Taken from a real tini-style start: a child Node runs the
// bundle as `boxinit -q --state-dir TMP -- /bin/true` with the addon
// (BOXINIT_ADDON) and an environment of PATH alone, and writes the cache when
// the bundle calls process.exit; the cache then holds every function a start
// calls (about 6 ms of compiling on every start otherwise, docs/resources.md).
// With a state directory, as it calls all a plain run calls and the few
// functions that read the state directory before the spawn. On a machine
// where the run would be Mini-VM mode (/etc/boxinit exists), the cache holds
// the bundle's top level only, as Node's own would.
// Run with the executable's own Node (V8 rejects another's cache).
// usage: node scripts/make-main-code-cache.ts BUNDLE OUTPUT ADDON
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { wrapBundle } from "../src/lazy/loader.ts";

const WARM_UP_TIMEOUT_MS = 20_000;
// Each would turn the warm-up into a Mini-VM run (cli/init.ts's whyMiniVm).
const PATHS_THAT_CHANGE_THE_RUN = ["/etc/boxinit/boxinit.yaml", "/etc/boxinit/init.d", "/etc/boxinit/finish.d"];

// The bundle loads the "box" bundle through loadOwnBundle, which outside the
// executable imports ./box-bundle.ts: named as if it sat in src/modes/, the
// bundle finds the source there (V8 does not check the name before using a cache).
const compile = (bundlePath: string): vm.Script =>
  new vm.Script(wrapBundle(readFileSync(bundlePath, "utf8")), {
    filename: fileURLToPath(new URL("../src/modes/boxinit.cjs", import.meta.url)),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });

// In the child: run the bundle as boxinit would run, the cache written at its
// exit. Its own argv is boxinit's (`-q --state-dir TMP -- /bin/true` from
// index 2 on): the addon passes the command on from the process's own argv bytes.
const runBundle = (bundlePath: string, outputPath: string): void => {
  const script = compile(bundlePath);
  const exit = process.exit.bind(process);
  process.exit = ((code?: number) => {
    writeFileSync(outputPath, script.createCachedData());
    return exit(code);
  }) as typeof process.exit;
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, (id: string) => process.getBuiltinModule(id), module, bundlePath, ".");
};

const CHILD_BUNDLE = "MAKE_MAIN_CODE_CACHE_BUNDLE";
const CHILD_OUTPUT = "MAKE_MAIN_CODE_CACHE_OUTPUT";
const { [CHILD_BUNDLE]: childBundle, [CHILD_OUTPUT]: childOutput } = process.env;
if (childBundle && childOutput) {
  delete process.env[CHILD_BUNDLE];
  delete process.env[CHILD_OUTPUT];
  runBundle(childBundle, childOutput);
} else {
  const [bundlePath, outputPath, addonPath] = process.argv.slice(2);
  if (!bundlePath || !outputPath || !addonPath) throw new Error("usage: node scripts/make-main-code-cache.ts BUNDLE OUTPUT ADDON");
  rmSync(outputPath, { force: true });
  const inTheWay = PATHS_THAT_CHANGE_THE_RUN.filter((path) => existsSync(path));
  if (inTheWay.length > 0) {
    process.stderr.write(`make-main-code-cache: ${inTheWay.join(", ")} exist here: the cache holds the bundle's top level only (starts compile the rest)\n`);
    writeFileSync(outputPath, compile(bundlePath).createCachedData());
  } else {
    const stateDir = mkdtempSync(join(tmpdir(), "boxinit-code-cache-"));
    const child = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", fileURLToPath(import.meta.url), "-q", "--state-dir", stateDir, "--", "/bin/true"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BOXINIT_ADDON: addonPath, [CHILD_BUNDLE]: bundlePath, [CHILD_OUTPUT]: outputPath },
      stdio: ["ignore", "inherit", "inherit"],
      timeout: WARM_UP_TIMEOUT_MS,
    });
    rmSync(stateDir, { recursive: true, force: true });
    if (child.status !== 0 || !existsSync(outputPath)) {
      throw new Error(`make-main-code-cache: the warm-up run (${bundlePath} -q --state-dir DIR -- /bin/true) ended with ${child.status ?? child.signal ?? child.error?.message}, no cache written`);
    }
  }
}

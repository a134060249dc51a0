// Build step: the V8 code cache of the main bundle (build/boxinit.cjs →
// build/main.cache), which src/sea-main.cjs, the executable's entry, compiles
// the bundle with. Taken from a real tini-style start: a child Node runs the
// bundle as `boxinit -q -- /bin/true` with the addon (BOXINIT_ADDON) and an
// environment of PATH alone, and writes the cache when the bundle calls
// process.exit; the cache then holds every function a start calls (about 6 ms
// of compiling on every start otherwise, docs/resources.md). On a machine
// where the run would not be a plain tini-style one (/etc/boxinit or /docker
// exist), the cache holds the bundle's top level only, as Node's own would.
// Run with the executable's own Node (V8 rejects another's cache).
// usage: node scripts/make-main-code-cache.ts BUNDLE OUTPUT ADDON
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { wrapBundle } from "../src/lazy/loader.ts";

const WARM_UP_TIMEOUT_MS = 20_000;
// Each would turn the warm-up into a Mini-VM or self-managing run (cli/init.ts's whyMiniVm, control/command-box-plan.ts).
const PATHS_THAT_CHANGE_THE_RUN = ["/etc/boxinit/boxinit.yaml", "/etc/boxinit/init.d", "/etc/boxinit/finish.d", "/docker"];

const compile = (bundlePath: string): vm.Script =>
  // The name the entry gives it too: stack traces name build/boxinit.cjs, as before.
  new vm.Script(wrapBundle(readFileSync(bundlePath, "utf8")), { filename: "build/boxinit.cjs" });

// In the child: run the bundle as boxinit would run, the cache written at its
// exit. Its own argv is boxinit's (`-q -- /bin/true` from index 2 on): the
// addon passes the command on from the process's own argv bytes.
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
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "-q", "--", "/bin/true"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BOXINIT_ADDON: addonPath, [CHILD_BUNDLE]: bundlePath, [CHILD_OUTPUT]: outputPath },
      stdio: ["ignore", "inherit", "inherit"],
      timeout: WARM_UP_TIMEOUT_MS,
    });
    if (child.status !== 0 || !existsSync(outputPath)) {
      throw new Error(`make-main-code-cache: the warm-up run (${bundlePath} -q -- /bin/true) ended with ${child.status ?? child.signal ?? child.error?.message}, no cache written`);
    }
  }
}

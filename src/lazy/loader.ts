// Code kept off PID 1's start-up path. Each bundle is built on its own
// (Makefile: build/lazy/NAME.cjs), embedded in the executable as an SEA asset,
// and compiled only when first used. Parsing them with the main bundle cost
// ~2 ms of every start (bench/RESULTS.md) for features most runs never touch.
// A leaf: typed over the third-party bundles only (the entries beside this
// file); boxinit's own bundles are loaded through loadBundle by
// modes/bundles.ts, so no mechanism that loads a library sees them.
import type * as PinoEntry from "./pino.ts";
import type * as YamlEntry from "./yaml.ts";
import type * as CronerEntry from "./croner.ts";
import type * as DockerodeEntry from "./dockerode.ts";

interface Libraries {
  pino: typeof PinoEntry;
  yaml: typeof YamlEntry;
  croner: typeof CronerEntry;
  dockerode: typeof DockerodeEntry;
}

const loaded = new Map<string, unknown>();

/** The parameters a bundle's code is wrapped in (the CommonJS module wrapper). */
const BUNDLE_PARAMETERS = "exports, require, module, __filename, __dirname";

/**
 * A bundle's code as the function source that is compiled. The build
 * (scripts/make-code-cache.ts) compiles exactly this text to produce the V8
 * code cache shipped beside each bundle, so both must come from here.
 */
export const wrapBundle = (code: string): string => `(function (${BUNDLE_PARAMETERS}) {${code}\n})`;

type BundleFunction = (exports: unknown, require: (id: string) => unknown, module: { exports: unknown }, filename: string, dirname: string) => void;

// The bundles are CommonJS built for Node: the only modules they require are
// Node's own, which getBuiltinModule serves inside the executable too. With a
// code cache made at build time (after a warm-up run, so it holds the
// functions a start needs) V8 skips most parsing and compiling: yaml loads in
// ~4 ms instead of ~16 ms. A rejected cache (another V8) only costs that time.
const evaluateBundle = (name: string, code: string, cachedData: Buffer | undefined): unknown => {
  const vm = process.getBuiltinModule("node:vm");
  const script = new vm.Script(wrapBundle(code), { filename: `boxinit:lazy/${name}.cjs`, cachedData });
  const run = script.runInThisContext() as BundleFunction;
  const module = { exports: {} as unknown };
  const requireBuiltin = (id: string): unknown => {
    const builtin = process.getBuiltinModule(id);
    if (builtin === undefined) throw new Error(`lazy/${name}: cannot require ${JSON.stringify(id)}: not a Node built-in`);
    return builtin;
  };
  run(module.exports, requireBuiltin, module, `lazy/${name}.cjs`, "lazy");
  return module.exports;
};

// The code cache asset, when the build made one.
const codeCacheOf = (sea: typeof import("node:sea"), name: string): Buffer | undefined => {
  try {
    return Buffer.from(sea.getAsset(`lazy/${name}.cache`));
  } catch {
    return undefined; // no cache asset: compile from source
  }
};

/**
 * Load the bundle lazy/NAME.cjs (once; later calls reuse it). Run from source
 * (the unit tests) there is no bundle: importEntry imports its entry file.
 */
export const loadBundle = async <Entry>(name: string, importEntry: () => Promise<Entry>): Promise<Entry> => {
  if (!loaded.has(name)) {
    const sea = process.getBuiltinModule("node:sea");
    loaded.set(name, sea.isSea() ? evaluateBundle(name, sea.getAsset(`lazy/${name}.cjs`, "utf8"), codeCacheOf(sea, name)) : await importEntry());
  }
  return loaded.get(name) as Entry;
};

/** Load a third-party library kept out of the main bundle (once; later calls reuse it). */
export const loadLibrary = <Name extends keyof Libraries>(name: Name): Promise<Libraries[Name]> =>
  loadBundle(name, () => {
    // A computed specifier keeps the bundler from pulling the library in.
    const entry = `./${name}.ts`;
    return import(entry) as Promise<Libraries[Name]>;
  });

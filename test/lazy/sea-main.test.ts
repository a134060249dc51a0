// src/sea-main.cjs, the executable's entry: it must compile the main bundle
// with the very wrapper lazy/loader.ts's wrapBundle gives the build's code
// cache (scripts/make-main-code-cache.ts), or V8 rejects the cache and every
// start compiles again; and it must run the bundle with its own CommonJS
// arguments. Run here on a fake node:sea holding a small bundle and its cache.
import t from "tap";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import vm from "node:vm";
import { wrapBundle } from "../../src/lazy/loader.ts";

const entry = readFileSync(resolve(import.meta.dirname, "../../src/sea-main.cjs"), "utf8");

// A bundle that calls a function (so the cache holds more than its top level)
// and reports what it was given. Each test's is its own text: V8 keeps what it
// compiled per process, and the same text again would not look at a cache.
const bundle = (tag: string): string =>
  `const twice = (n) => n * 2;\nmodule.exports.seen = { twice: twice(21), hasRequire: typeof require === "function", sameExports: exports === module.exports };\n// ${tag}\n`;

const cacheOf = (code: string): Buffer => {
  // Another name than the entry's: the entry's compile must read the cache, not find this script.
  const script = new vm.Script(wrapBundle(code), { filename: "make-main-code-cache" });
  (script.runInThisContext() as (...args: unknown[]) => void)({}, () => undefined, { exports: {} }, "", "");
  return script.createCachedData();
};

/** Runs the entry with node:sea serving `assets`; what V8 said of the cache and what the bundle saw. */
const runEntry = (assets: Record<string, string | Buffer>): { rejected: boolean | undefined; seen: unknown } => {
  let rejected: boolean | undefined;
  class RecordingScript extends vm.Script {
    constructor(code: string, options: vm.ScriptOptions) {
      super(code, options);
      rejected = this.cachedDataRejected;
    }
  }
  const sea = {
    getAsset: (name: string, encoding?: string): string | ArrayBuffer => {
      const asset = assets[name];
      if (asset === undefined) throw new Error(`no asset ${name}`);
      if (encoding) return String(asset);
      const bytes = Buffer.from(asset);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    },
  };
  const fakeRequire = (id: string): unknown => (id === "node:sea" ? sea : id === "node:vm" ? { Script: RecordingScript } : process.getBuiltinModule(id));
  const module = { exports: {} as { seen?: unknown } };
  new vm.Script(`(function (exports, require, module, __filename, __dirname) {${entry}\n})`).runInThisContext()(module.exports, fakeRequire, module, "entry", ".");
  // The entry passes its own module on: the bundle's exports land there.
  return { rejected, seen: module.exports.seen };
};

t.test("the build's cache for the main bundle is accepted by the entry's compile", async (t) => {
  const { rejected, seen } = runEntry({ "main.cjs": bundle("accepted"), "main.cache": cacheOf(bundle("accepted")) });
  t.equal(rejected, false, "V8 took the cache: same wrapper, same source");
  t.same(seen, { twice: 42, hasRequire: true, sameExports: true }, "the bundle ran with exports, require and module");
});

t.test("without a cache asset the bundle still runs, compiled from source", async (t) => {
  const { rejected, seen } = runEntry({ "main.cjs": bundle("no cache") });
  t.equal(rejected, undefined, "no cache was offered");
  t.same(seen, { twice: 42, hasRequire: true, sameExports: true });
});

t.test("a cache of other source is rejected, and the bundle runs anyway", async (t) => {
  const { rejected, seen } = runEntry({ "main.cjs": bundle("rejected"), "main.cache": cacheOf(bundle("rejected, another build")) });
  t.equal(rejected, true);
  t.same(seen, { twice: 42, hasRequire: true, sameExports: true });
});

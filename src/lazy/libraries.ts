// Libraries kept off PID 1's start-up path. Each is bundled on its own
// (Makefile: build/lazy/NAME.cjs), embedded in the executable as an SEA asset,
// and compiled only when first used. Parsing them with the main bundle cost
// ~2 ms of every start (bench/RESULTS.md) for features most runs never touch.
// Run from source (the unit tests), the entry file is imported instead.
import type * as PinoEntry from "./pino.ts";
import type * as ExecaEntry from "./execa.ts";
import type * as ChokidarEntry from "./chokidar.ts";
import type * as YamlEntry from "./yaml.ts";
import type * as ModesEntry from "./modes.ts";

interface Libraries {
  pino: typeof PinoEntry;
  execa: typeof ExecaEntry;
  chokidar: typeof ChokidarEntry;
  yaml: typeof YamlEntry;
  modes: typeof ModesEntry;
}

const loaded = new Map<keyof Libraries, unknown>();

// The bundles are CommonJS built for Node: the only modules they require are
// Node's own, which getBuiltinModule serves inside the executable too.
const evaluateBundle = (name: string, code: string): unknown => {
  const vm = process.getBuiltinModule("node:vm");
  const module = { exports: {} as unknown };
  const run = vm.compileFunction(code, ["exports", "require", "module", "__filename", "__dirname"], {
    filename: `boxinit:lazy/${name}.cjs`,
  });
  const requireBuiltin = (id: string): unknown => {
    const builtin = process.getBuiltinModule(id);
    if (builtin === undefined) throw new Error(`lazy/${name}: cannot require ${JSON.stringify(id)}: not a Node built-in`);
    return builtin;
  };
  run(module.exports, requireBuiltin, module, `lazy/${name}.cjs`, "lazy");
  return module.exports;
};

/** Load a library kept out of the main bundle (once; later calls reuse it). */
export const loadLibrary = async <Name extends keyof Libraries>(name: Name): Promise<Libraries[Name]> => {
  if (!loaded.has(name)) {
    const sea = process.getBuiltinModule("node:sea");
    if (sea.isSea()) {
      loaded.set(name, evaluateBundle(name, sea.getAsset(`lazy/${name}.cjs`, "utf8")));
    } else {
      // A computed specifier keeps the bundler from pulling the library in.
      const entry = `./${name}.ts`;
      loaded.set(name, await import(entry));
    }
  }
  return loaded.get(name) as Libraries[Name];
};

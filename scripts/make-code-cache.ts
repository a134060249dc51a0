// Build step: the V8 code cache for one lazy bundle (build/lazy/NAME.cjs →
// build/lazy/NAME.cache), embedded in the executable beside the bundle. Run
// with the same Node as the executable (V8 rejects a cache from another
// version). The bundle is run once and given typical work first, so the cache
// also holds the functions a real start compiles, not only the top level.
// usage: node scripts/make-code-cache.ts NAME BUNDLE OUTPUT
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import vm from "node:vm";
import { wrapBundle } from "../src/lazy/loader.ts";

const [name, bundlePath, outputPath] = process.argv.slice(2);
if (!name || !bundlePath || !outputPath) throw new Error("usage: node scripts/make-code-cache.ts NAME BUNDLE OUTPUT");

// Typical work per bundle, on data of the repository's own.
const WARM_UPS: Record<string, (exports: any) => void> = {
  yaml: ({ parseDocument, LineCounter }) => {
    const text = readFileSync(new URL("../examples/mini-vm/boxinit.yaml", import.meta.url), "utf8");
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { schema: "failsafe", customTags: ["null"], prettyErrors: false, lineCounter });
    doc.toJS({ maxAliasCount: 100, mapAsMap: true });
  },
  croner: ({ Cron }) => {
    new Cron("*/5 * * * *", { paused: true }).nextRun();
  },
  dockerode: ({ Dockerode }) => {
    new Dockerode({ socketPath: "/nonexistent/docker.sock" }).getContainer("warm-up");
  },
  pino: ({ default: pino }) => {
    pino({ base: { name: "boxinit" }, level: "trace", timestamp: pino.stdTimeFunctions.isoTime }, { write: () => {} }).info({ event: "exit" }, "warm-up");
  },
};

const script = new vm.Script(wrapBundle(readFileSync(bundlePath, "utf8")), { filename: `boxinit:lazy/${name}.cjs` });
const module = { exports: {} as unknown };
const require = createRequire(import.meta.url);
(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, (id: string) => require(id), module, `lazy/${name}.cjs`, "lazy");
WARM_UPS[name]?.(module.exports);
writeFileSync(outputPath, script.createCachedData());

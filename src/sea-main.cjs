// The executable's entry (sea-config.json "main"): runs the main bundle
// (build/boxinit.cjs, an SEA asset) with a V8 code cache taken from a real
// `boxinit -q -- /bin/true` at build time (scripts/make-main-code-cache.ts).
// Node's own SEA code cache holds only what compiling the bundle makes, not
// the functions a start then calls: compiling those cost ~6 ms of CPU on
// every start (docs/resources.md). Only Node built-ins are used here, and
// nothing runs before the bundle's first line, which takes the signals
// (pid1/signal-intake.ts). The wrapper text must stay the same as
// lazy/loader.ts's wrapBundle, with which the cache is made; a cache V8
// rejects (another wrapper, another Node) only costs that compile time.
"use strict";
const sea = require("node:sea");
const { Script } = require("node:vm");

const code = sea.getAsset("main.cjs", "utf8");
let cachedData;
try {
  cachedData = Buffer.from(sea.getAsset("main.cache"));
} catch {
  cachedData = undefined; // built without one: compiled from source
}
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
  filename: "build/boxinit.cjs",
  cachedData,
});
script.runInThisContext()(exports, require, module, __filename, __dirname);

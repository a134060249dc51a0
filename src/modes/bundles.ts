// boxinit's own lazy bundles, each built from an entry beside this file
// (Makefile: build/lazy/NAME.cjs from src/modes/NAME-bundle.ts): "modes"
// (Mini-VM mode, the batch job, the side commands), "host" (the host tool)
// and "box" (a tini-style run's state directory). A plain `boxinit -- CMD`
// parses none of them, which keeps its start-up at a bare Node hello world's
// (bench/RESULTS.md). Only main.ts and modes/ import this file.
import type * as ModesBundle from "./modes-bundle.ts";
import type * as HostBundle from "./host-bundle.ts";
import type * as BoxBundle from "./box-bundle.ts";
import { loadBundle } from "../lazy/loader.ts";

interface OwnBundles {
  modes: typeof ModesBundle;
  host: typeof HostBundle;
  box: typeof BoxBundle;
}

/** Load one of boxinit's own bundles (once; later calls reuse it). */
export const loadOwnBundle = <Name extends keyof OwnBundles>(name: Name): Promise<OwnBundles[Name]> =>
  loadBundle(name, () => {
    // A computed specifier keeps the bundler from pulling the entry into the main bundle.
    const entry = `./${name}-bundle.ts`;
    return import(entry) as Promise<OwnBundles[Name]>;
  });

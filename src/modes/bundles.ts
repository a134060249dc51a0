// boxinit's own lazy bundles, each built from an entry beside this file
// (Makefile: build/lazy/NAME.cjs from src/modes/NAME-bundle.ts): "mini-vm"
// (Mini-VM mode), "job" (`boxinit job`), "side" (the commands beside PID 1),
// "host" (the host tool) and "box" (a tini-style run's state directory). One
// per kind of run, so each reads and compiles only its own code (shared code
// is in each that uses it). A plain `boxinit -- CMD` parses none of them,
// which keeps its start-up at a bare Node hello world's (bench/RESULTS.md).
// Only main.ts and modes/ import this file.
import type * as MiniVmBundle from "./mini-vm-bundle.ts";
import type * as JobBundle from "./job-bundle.ts";
import type * as SideBundle from "./side-bundle.ts";
import type * as HostBundle from "./host-bundle.ts";
import type * as BoxBundle from "./box-bundle.ts";
import { loadBundle } from "../lazy/loader.ts";

interface OwnBundles {
  "mini-vm": typeof MiniVmBundle;
  job: typeof JobBundle;
  side: typeof SideBundle;
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

// Entry of the separately bundled chokidar (build/lazy/chokidar.cjs); see libraries.ts.
export { watch } from "chokidar";
export type { FSWatcher, ChokidarOptions } from "chokidar";

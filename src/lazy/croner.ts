// Entry of the separately bundled croner (build/lazy/croner.cjs); see libraries.ts.
// Only a config with scheduled jobs loads it.
export { Cron } from "croner";

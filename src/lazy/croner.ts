// Entry of the separately bundled croner (build/lazy/croner.cjs); see loader.ts.
// Only a config with scheduled jobs loads it.
export { Cron } from "croner";

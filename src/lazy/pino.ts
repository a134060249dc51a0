// Entry of the separately bundled pino (build/lazy/pino.cjs); see loader.ts.
export { default } from "pino";

// Entry of the separately bundled pino (build/lazy/pino.cjs); see libraries.ts.
export { default } from "pino";

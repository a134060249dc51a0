// Entry of the separately bundled execa (build/lazy/execa.cjs); see loader.ts.
export { execa } from "execa";

// Entry of the separately bundled execa (build/lazy/execa.cjs); see libraries.ts.
export { execa } from "execa";

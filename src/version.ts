// The version string, replaced at bundle time from package.json.
declare const BOXINIT_VERSION: string | undefined;

/** boxinit's version (package.json), or "dev" when run from source. */
export const VERSION: string = typeof BOXINIT_VERSION === "string" ? BOXINIT_VERSION : "dev";

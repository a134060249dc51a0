// Shared by the config tests: load a fixture of test/fixtures/config or a few
// lines of YAML through the real loader, with the fixture passwd/group files
// and root by default.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type LoadOptions, type LoadResult } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";

export const FIXTURES = join(import.meta.dirname, "../fixtures/config");
export const PASSWD = join(FIXTURES, "passwd");
export const GROUP = join(FIXTURES, "group");

const BASE_OPTIONS = { env: {}, passwdFile: PASSWD, groupFile: GROUP, isRoot: true } as const;

/** Load a fixture file from test/fixtures/config. */
export const load = async (file: string, options: Partial<LoadOptions> = {}): Promise<LoadResult> =>
  await loadConfig({ path: join(FIXTURES, file), ...BASE_OPTIONS, ...options });

/** A loader of YAML text, each written to a fresh boxinit-N.yaml in a directory removed at teardown. */
export const textLoader = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), "boxinit-config-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let count = 0;
  return async (text: string, options: Partial<LoadOptions> = {}): Promise<LoadResult> => {
    const path = join(dir, `boxinit-${++count}.yaml`);
    writeFileSync(path, text);
    return await loadConfig({ path, ...BASE_OPTIONS, ...options });
  };
};

/** The config, or a throw that shows the unexpected errors in the test output. */
export const configOf = (result: LoadResult): Config => {
  if (!result.ok) throw new Error(`unexpected errors:\n${result.errors.join("\n")}`);
  return result.config;
};

export const errorsOf = (result: LoadResult): string[] => (result.ok ? [] : result.errors);

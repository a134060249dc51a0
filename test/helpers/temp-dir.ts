// A fresh temporary directory per test, removed in teardown.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh directory, removed in teardown. */
export const tempDir = (t: { teardown(fn: () => void): void }, prefix = "boxinit-test-"): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

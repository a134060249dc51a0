// A full and a read-only state directory, for real: a tmpfs in a private
// mount namespace (needs root and unshare, like the PID 1 tests), seen by the
// status file (control/status-file.ts) and by makeDirs (control/dir-handle.ts).
import t from "tap";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const FIXTURE = resolve(import.meta.dirname, "../fixtures/status-on-tmpfs.ts");

t.test("ENOSPC and EROFS: one warning each, rewritten once possible, no temp files", async (t) => {
  t.equal(process.getuid?.(), 0, "mount namespaces need root: run the tests as root");
  const dir = mkdtempSync(join(tmpdir(), "boxinit-tmpfs-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = 'mount -t tmpfs -o size=64k,mode=0755 boxinit-test "$1" && exec "$2" "$3" "$1"';
  const output = execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", dir, process.execPath, FIXTURE], {
    encoding: "utf8",
    timeout: 30_000,
  });
  const result = JSON.parse(output) as { whileFull?: string; whileReadOnly?: string; warnings: string[]; infos: string[]; entries: string[] };
  t.equal(result.whileFull, undefined, "nothing half-written while full");
  t.equal(result.whileReadOnly, "running\n", "the previous status stays while read-only");
  t.equal(result.warnings.length, 2, "one warning per problem, not per attempt");
  t.match(result.warnings[0], /cannot write status\.json: ENOSPC: .*hint="the file system is full"/);
  t.match(result.warnings[1], /cannot write status\.json: EROFS: .*hint="the file system is read-only/);
  t.equal(result.infos.filter((line) => /state directory writable again/.test(line)).length, 2);
  t.same(result.entries, ["status", "status.json"]);
});

t.test("makeDirs on a read-only parent says EROFS, not Node's recursive ENOENT", async (t) => {
  t.equal(process.getuid?.(), 0, "mount namespaces need root: run the tests as root");
  const base = mkdtempSync(join(tmpdir(), "boxinit-rofs-"));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const script = `mount -t tmpfs -o ro,size=64k boxinit-test "$1" && exec "$2" --input-type=module -e "$3"`;
  const module = new URL("../../src/control/dir-handle.ts", import.meta.url).href;
  const code = `const { makeDirs } = await import(${JSON.stringify(module)});
    try { makeDirs(${JSON.stringify(join(base, "state", "deeper"))}, 0o755); console.log("made"); } catch (error) { console.log(error.code); }`;
  const result = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", base, process.execPath, code], {
    encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" }, timeout: 30_000,
  });
  t.equal(result.stdout.trim(), "EROFS", result.stderr);
});

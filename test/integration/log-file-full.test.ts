// A service's log file on a full disk, for real: a 64 KiB tmpfs in a private
// mount namespace (needs root and unshare, like the PID 1 tests). One
// warning, whole lines only, the drop counted when writing works again.
import t from "tap";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { tempDir } from "../helpers/temp-dir.ts";

const FIXTURE = resolve(import.meta.dirname, "../fixtures/log-file-on-tmpfs.ts");

t.test("ENOSPC: logged once, no half line, writing resumes and says what was dropped", async (t) => {
  t.equal(process.getuid?.(), 0, "mount namespaces need root: run the tests as root");
  const dir = tempDir(t, "boxinit-logfull-");
  const script = 'mount -t tmpfs -o size=64k,mode=0755 boxinit-test "$1" && exec "$2" "$3" "$1"';
  const output = execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", dir, process.execPath, FIXTURE], {
    encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" }, timeout: 30_000,
  });
  const result = JSON.parse(output) as { whileFull: string; after: string; written: number; warnings: string[]; infos: string[] };
  const kept = result.whileFull.split("\n").slice(0, -1);
  t.ok(kept.length > 0 && kept.length < result.written - 1, `some lines fit, not all (${kept.length} of ${result.written - 1})`);
  t.ok(result.whileFull.endsWith("\n"), "the file ends with a whole line");
  kept.forEach((line, index) => t.equal(line, `out line ${String(index).padStart(6, "0")} ${"z".repeat(87)}`, `line ${index} whole and in order`));
  t.equal(result.warnings.length, 1, "one warning, not one per batch");
  t.match(result.warnings[0], /cannot write the log file of web: ENOSPC: .*hint="the file system is full"/);
  const dropped = result.written - 1 - kept.length;
  t.match(result.infos.join(""), new RegExp(`written again; ${dropped} lines \\(${dropped * 100} bytes\\) could not be written`));
  t.ok(result.after.endsWith(`line ${String(result.written - 1).padStart(6, "0")} ${"z".repeat(87)}\n`), "the line after the disk was freed is written");
});

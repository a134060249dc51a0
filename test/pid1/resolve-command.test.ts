import t from "tap";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveCommand } from "../../src/pid1/resolve-command.ts";

t.test("PATH lookup like execvp, with 126/127 known up front", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "boxinit-resolve-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin1 = join(dir, "bin1");
  const bin2 = join(dir, "bin2");
  mkdirSync(bin1);
  mkdirSync(bin2);
  writeFileSync(join(bin1, "tool"), "#!/bin/sh\n", { mode: 0o644 });
  writeFileSync(join(bin2, "tool"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(bin1, "plain"), "data", { mode: 0o644 });
  mkdirSync(join(bin1, "adir"));

  t.same(resolveCommand("tool", `${bin1}:${bin2}`), { ok: true, file: join(bin2, "tool") }, "skips the non-executable one");
  t.match(resolveCommand("plain", bin1), { ok: false, exitCode: 126 });
  t.match(resolveCommand("adir", bin1), { ok: false, exitCode: 126 });
  t.match(resolveCommand("missing", bin1), { ok: false, exitCode: 127, reason: "not found in PATH" });
  t.same(resolveCommand(join(bin2, "tool"), ""), { ok: true, file: join(bin2, "tool") });
  t.match(resolveCommand(join(bin1, "tool"), ""), { ok: false, exitCode: 126 });
  t.match(resolveCommand(join(dir, "nope"), ""), { ok: false, exitCode: 127 });
  t.match(resolveCommand("", bin1), { ok: false, exitCode: 127 });
  chmodSync(join(bin1, "plain"), 0o755);
  t.same(resolveCommand("plain", bin1), { ok: true, file: join(bin1, "plain") });
  t.match(resolveCommand("sh", undefined), { ok: true, file: /^\/(usr\/)?s?bin\/sh$/ }, "the default PATH when unset");
});

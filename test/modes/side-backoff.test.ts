import t from "tap";
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { backoffCommand, resolveBackoffFile } from "../../src/modes/side.ts";
import { captureIo } from "../helpers/command-io.ts";
import { tempDir } from "../helpers/temp-dir.ts";

t.test("on and off", async (t) => {
  const dir = tempDir(t);
  const on = captureIo();
  t.equal(backoffCommand(["on"], dir, on), 0);
  t.equal(readFileSync(join(dir, "backoff"), "utf8"), "true\n");
  t.equal(on.out, `boxinit backoff: on: wrote "true" to ${join(dir, "backoff")}\n`);
  t.equal(statSync(join(dir, "backoff")).mode & 0o777, 0o644);
  const again = captureIo();
  t.equal(backoffCommand(["on"], dir, again), 0);
  t.match(again.out, /\(it was already on\)\n$/);
  const off = captureIo();
  t.equal(backoffCommand(["off"], dir, off), 0);
  t.equal(readFileSync(join(dir, "backoff"), "utf8"), "false\n");
  t.equal(off.out, `boxinit backoff: off: wrote "false" to ${join(dir, "backoff")}\n`);
  t.same(readdirSync(dir), ["backoff"], "no temp file left");
});

t.test("a symlink planted at backoff is replaced, not followed", async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t, "boxinit-outside-");
  writeFileSync(join(outside, "shadow"), "root:*:1::::::\n");
  symlinkSync(join(outside, "shadow"), join(dir, "backoff"));
  t.equal(backoffCommand(["on"], dir, captureIo()), 0);
  t.equal(readFileSync(join(outside, "shadow"), "utf8"), "root:*:1::::::\n");
  t.ok(lstatSync(join(dir, "backoff")).isFile());
  t.equal(readFileSync(join(dir, "backoff"), "utf8"), "true\n");
});

t.test("cannot write: exit 1 with the reason", async (t) => {
  const dir = tempDir(t);
  const io = captureIo();
  t.equal(backoffCommand(["on"], join(dir, "missing"), io), 1);
  t.match(io.err, /^boxinit backoff: cannot write .*missing\/backoff: ENOENT.*\n  hint: the state directory does not exist/);
  t.equal(io.out, "");
  writeFileSync(join(dir, "file"), "");
  const io2 = captureIo();
  t.equal(backoffCommand(["off"], join(dir, "file"), io2), 1);
  t.match(io2.err, /ENOTDIR/);
});

t.test("usage", async (t) => {
  for (const args of [[], ["ON"], ["true"], ["on", "off"], ["--on"]]) {
    const io = captureIo();
    t.equal(backoffCommand(args, "/nonexistent", io), 2, JSON.stringify(args));
    t.match(io.err, /^boxinit backoff: expected on or off, got .*\nusage: boxinit backoff on\|off/);
  }
  const help = captureIo();
  t.equal(backoffCommand(["--help"], "/nonexistent", help), 0);
  t.match(help.out, /^usage: boxinit backoff on\|off/);
});

t.test("resolveBackoffFile: --state-dir's own file; else backoff.file from the config or BOXINIT_BACKOFF_FILE", async (t) => {
  const dir = tempDir(t);
  const none = join(dir, "no-config.yaml");
  const control = join(dir, "control", "backoff");
  t.equal(await resolveBackoffFile({ stateDir: "/host/state", rest: [], errors: [] }, { BOXINIT_BACKOFF_FILE: control }, "/host/state"),
    "/host/state/backoff", "a host-side caller names the state directory: its file");
  const config = join(dir, "boxinit.yaml");
  writeFileSync(config, `backoff: { file: ${control} }\n`);
  t.equal(await resolveBackoffFile({ configPath: config, rest: [], errors: [] }, {}, "/docker"), control, "the config's backoff.file");
  t.equal(await resolveBackoffFile({ rest: [], errors: [] }, { BOXINIT_CONFIG: none, BOXINIT_BACKOFF_FILE: control }, "/docker"), control,
    "BOXINIT_BACKOFF_FILE when the config cannot be read");
  t.equal(await resolveBackoffFile({ rest: [], errors: [] }, { BOXINIT_CONFIG: none }, "/docker"), "/docker/backoff");
});

t.test("backoffCommand writes the file it is given (backoff.file)", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "elsewhere");
  const io = captureIo();
  t.equal(backoffCommand(["on"], dir, io, file), 0);
  t.equal(readFileSync(file, "utf8"), "true\n");
  t.same(readdirSync(dir), ["elsewhere"], "nothing written in the state directory");
});

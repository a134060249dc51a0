// status.json as its writers read it: the whole document, or the file kept
// aside as status.json.bad-TIME with the reason (never cut at a size, never
// replaced in place); nothing set aside for a missing file, a symlink or a
// shortage of boxinit's own.
import t from "tap";
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import {
  byPath, MAX_STATUS_JSON_BYTES, parseStatusDocument, readForUpdate, setAsideName, type StatusDirOps,
} from "../../src/control/status-document.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { bigDocument } from "../helpers/status-documents.ts";

const NOW = Date.parse("2026-11-26T10:00:00.123Z");

t.test("parseStatusDocument: an object whose jobs, when present, is an object", async (t) => {
  t.same(parseStatusDocument('{"jobs": {"a": 1}}'), { ok: true, document: { jobs: { a: 1 } } });
  t.same(parseStatusDocument('{"state": "x"}'), { ok: true, document: { state: "x" } });
  t.match(parseStatusDocument("{torn"), { ok: false, reason: /^not valid JSON \(/ });
  for (const text of ["[1]", "null", '"text"', "3"]) t.same(parseStatusDocument(text), { ok: false, reason: "not a JSON object" }, text);
  t.same(parseStatusDocument('{"jobs": [1]}'), { ok: false, reason: '"jobs" is not a JSON object' });
  t.same(parseStatusDocument('{"jobs": null}'), { ok: false, reason: '"jobs" is not a JSON object' });
});

t.test("setAsideName: the time to the millisecond, then -2, -3 when taken", async (t) => {
  t.equal(setAsideName(NOW, () => false), "status.json.bad-2026-11-26T10:00:00.123Z");
  const taken = new Set(["status.json.bad-2026-11-26T10:00:00.123Z", "status.json.bad-2026-11-26T10:00:00.123Z-2"]);
  t.equal(setAsideName(NOW, (name) => taken.has(name)), "status.json.bad-2026-11-26T10:00:00.123Z-3");
});

t.test("a document far over the old 1 MiB cap is read whole", async (t) => {
  const dir = tempDir(t);
  const document = bigDocument(2200);
  const text = JSON.stringify(document, null, 2);
  t.ok(text.length > 1024 * 1024, `${text.length} bytes`);
  writeFileSync(join(dir, "status.json"), text);
  const read = readForUpdate(byPath(dir), NOW);
  t.same(read, { document }, "every record, nothing kept aside");
  t.same(readdirSync(dir), ["status.json"]);
});

t.test("missing, a symlink, a directory: nothing to read, nothing kept aside", async (t) => {
  const dir = tempDir(t);
  t.same(readForUpdate(byPath(dir), NOW), { document: undefined });
  t.same(readForUpdate(byPath(join(dir, "no", "such")), NOW), { document: undefined }, "a missing state directory");
  writeFileSync(join(dir, "file"), "");
  t.same(readForUpdate(byPath(join(dir, "file")), NOW), { document: undefined }, "a file where the directory should be (ENOTDIR)");
  const outside = tempDir(t, "boxinit-outside-");
  writeFileSync(join(outside, "secret.json"), '{"jobs": {"stolen": {}}}');
  symlinkSync(join(outside, "secret.json"), join(dir, "status.json"));
  t.same(readForUpdate(byPath(dir), NOW), { document: undefined }, "a symlink is not read through");
  t.ok(lstatSync(join(dir, "status.json")).isSymbolicLink(), "and left for the write to replace");
  const other = tempDir(t);
  mkdirSync(join(other, "status.json"));
  t.same(readForUpdate(byPath(other), NOW), { document: undefined }, "a directory is left for the write's EISDIR");
});

t.test("what cannot be used is kept aside as status.json.bad-TIME with the reason, content intact", async (t) => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ["torn", '{"schemaVersion": 1, "jobs": {"a": {"ru', /^not valid JSON/],
    ["not an object", "[1, 2]", /^not a JSON object$/],
    ["jobs not an object", '{"jobs": "x"}', /^"jobs" is not a JSON object$/],
    ["over the cap", Buffer.alloc(MAX_STATUS_JSON_BYTES + 10, 0x20), /^larger than 16777216 bytes/],
  ];
  for (const [what, content, reason] of cases) {
    const dir = tempDir(t);
    writeFileSync(join(dir, "status.json"), content);
    const read = readForUpdate(byPath(dir), NOW);
    t.equal(read.document, undefined, what);
    t.match(read.keptAside, { name: "status.json.bad-2026-11-26T10:00:00.123Z", reason }, what);
    t.same(readdirSync(dir), ["status.json.bad-2026-11-26T10:00:00.123Z"], `${what}: moved, not copied or removed`);
    t.same(readFileSync(join(dir, read.keptAside!.name)), Buffer.from(content), `${what}: byte for byte`);
  }
});

t.test("exactly the cap is read; a FIFO or unreadable file is kept aside", async (t) => {
  const dir = tempDir(t);
  const exact = Buffer.alloc(MAX_STATUS_JSON_BYTES, 0x20);
  exact.write('{"jobs": {}}', 0);
  writeFileSync(join(dir, "status.json"), exact);
  t.same(readForUpdate(byPath(dir), NOW), { document: { jobs: {} } });

  const fifoDir = tempDir(t);
  t.equal(spawnSync("mkfifo", [join(fifoDir, "status.json")]).status, 0, "mkfifo");
  t.match(readForUpdate(byPath(fifoDir), NOW).keptAside, { reason: "cannot be read (EINVAL)" }, "a FIFO does not block and is moved away");
  t.ok(lstatSync(join(fifoDir, "status.json.bad-2026-11-26T10:00:00.123Z")).isFIFO());

  // Root reads a 0000 file anyway: an unreadable one is made by the ops.
  const unreadable: StatusDirOps = { ...byPath(dir), read: () => { throw Object.assign(new Error("EACCES"), { code: "EACCES" }); } };
  writeFileSync(join(dir, "status.json"), "{}");
  chmodSync(join(dir, "status.json"), 0o644);
  t.match(readForUpdate(unreadable, NOW).keptAside, { reason: "cannot be read (EACCES)" });
});

t.test("a shortage of boxinit's own is thrown: nothing set aside, nothing replaced", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "status.json"), '{"jobs": {"a": {}}}');
  for (const code of ["EMFILE", "ENFILE", "ENOMEM", "EIO"]) {
    const short: StatusDirOps = { ...byPath(dir), read: () => { throw Object.assign(new Error(code), { code }); } };
    t.throws(() => readForUpdate(short, NOW), { code }, code);
  }
  t.same(readdirSync(dir), ["status.json"]);
});

t.test("a file replaced between the read and the rename is read again, not moved", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "status.json"), "{torn");
  const ops = byPath(dir);
  let reads = 0;
  const racing: StatusDirOps = {
    ...ops,
    read: (name, max) => {
      const bytes = ops.read(name, max);
      // Another writer's rename lands right after our first read.
      if (++reads === 1) writeFileSync(join(dir, ".fresh"), '{"jobs": {"fresh": {}}}'), spawnSync("mv", [join(dir, ".fresh"), join(dir, "status.json")]);
      return bytes;
    },
  };
  t.same(readForUpdate(racing, NOW), { document: { jobs: { fresh: {} } } }, "the fresh document, nothing kept aside");
  t.same(readdirSync(dir), ["status.json"]);
});

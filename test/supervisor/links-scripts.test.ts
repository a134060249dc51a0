// links: and init.d/finish.d listing, on real files.
import t from "tap";
import { chmodSync, lstatSync, mkdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeLinks } from "../../src/supervisor/links.ts";
import { listScripts } from "../../src/supervisor/scripts.ts";
import { Logger, type Sink } from "../../src/log/logger.ts";

const quiet = (): { log: Logger; lines: string[] } => {
  const lines: string[] = [];
  const sink: Sink = { write: (level, event, message) => lines.push(`${level} ${event} ${message}`) };
  return { log: new Logger(sink, "trace"), lines };
};

t.test("links are made, replacing a file or a link, creating the directory", async (t) => {
  const dir = t.testdir({ conf: { "server.xml": "old file" }, "old-target": "x" });
  const { log } = quiet();
  const problems = makeLinks(
    [
      { link: join(dir, "conf/server.xml"), target: "/docker/server.xml" },
      { link: join(dir, "new/dir/app.conf"), target: "/docker/app.conf" },
    ],
    log,
  );
  t.same(problems, []);
  t.equal(readlinkSync(join(dir, "conf/server.xml")), "/docker/server.xml", "a regular file is replaced, as ln -sf does");
  t.equal(readlinkSync(join(dir, "new/dir/app.conf")), "/docker/app.conf");
  t.same(makeLinks([{ link: join(dir, "conf/server.xml"), target: "/elsewhere" }], log), [], "an existing link is re-pointed");
  t.equal(readlinkSync(join(dir, "conf/server.xml")), "/elsewhere");
});

t.test("a directory in the way is a problem, not a crash", async (t) => {
  const dir = t.testdir({ busy: { inside: "x" } });
  const { log } = quiet();
  const problems = makeLinks([{ link: join(dir, "busy"), target: "/x" }], log);
  t.equal(problems.length, 1);
  t.match(problems[0], new RegExp(`^links: ${dir}/busy -> /x: `));
  t.ok(lstatSync(join(dir, "busy")).isDirectory(), "the directory is untouched");
});

t.test("scripts: executable regular files in byte order; a missing directory has none", async (t) => {
  const dir = t.testdir({ "20-b": "#!/bin/sh\n", "10-a": "#!/bin/sh\n", "B-upper": "#!/bin/sh\n", "30-not-exec": "x", sub: {} });
  for (const name of ["20-b", "10-a", "B-upper"]) chmodSync(join(dir, name), 0o755);
  mkdirSync(join(dir, "sub", "x"));
  writeFileSync(join(dir, "sub", "x", "y"), "");
  const { log, lines } = quiet();
  t.same(listScripts(dir, log), [join(dir, "10-a"), join(dir, "20-b"), join(dir, "B-upper")]);
  t.match(lines.join("\n"), /skipping .*30-not-exec: not an executable file/);
  t.same(listScripts(join(dir, "nope"), log), []);
});

// `boxinit host backoff BOOK on --wait` when the box does not back off: the
// wait is bounded (--timeout: exit 5, backoff stays on), and a box that exits
// without writing backedoff is reported (exit 1), not waited on. The box here
// is a tini-style boxinit that keeps its state elsewhere (--state-dir inside
// the container), so it neither writes /docker's status nor follows its
// backoff: since issue 14 a tini-style run with the image's /docker is
// self-managing and would back off. (The boxes that do back off are
// host-lifecycle.test.ts and tini-self-managing.test.ts.)
import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { makeBook } from "../helpers/host.ts";

// Not the mounted /docker: the box's own status and backoff live here, out of the host's sight.
const ELSEWHERE = "/run/boxinit-elsewhere";

t.test("host backoff --wait", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;

  await t.test("a box that never backs off: exit 5 at --timeout, backoff stays on", async (t) => {
    const book = makeBook(t, `command: [--state-dir, ${ELSEWHERE}, --, sleep, '300']`);
    await book.tag(BASE_IMAGE, "run");
    t.equal((await book.host("run")).code, 0);
    const started = Date.now();
    const wait = await book.host("backoff", "on", "--wait", "--timeout", "1500ms");
    t.equal(wait.code, 5, wait.stderr);
    t.ok(Date.now() - started < 30_000, "bounded");
    t.match(wait.stderr, new RegExp(`^boxinit host: error: ${book.container}: status still unknown after \\S+, not backedoff; backoff stays on`));
    t.equal(readFileSync(join(book.home, "backoff"), "utf8"), "true\n");
  });

  await t.test("a box that exits without backing off: exit 1 with its exit code", async (t) => {
    const book = makeBook(t, `command: [--state-dir, ${ELSEWHERE}, --, sh, -c, 'sleep 1; exit 3']`);
    await book.tag(BASE_IMAGE, "run");
    t.equal((await book.host("run")).code, 0);
    const wait = await book.host("backoff", "on", "--wait", "--timeout", "60s");
    t.equal(wait.code, 1, wait.stderr);
    t.match(wait.stderr, new RegExp(`^boxinit host: error: ${book.container}: exited 3 with status unknown \\(no status\\.json\\), not backedoff; see`));
  });

  await t.test("no container: nothing to wait for, exit 0", async (t) => {
    const book = makeBook(t);
    const wait = await book.host("backoff", "on", "--wait");
    t.equal(wait.code, 0, wait.stderr);
    t.match(wait.stdout, new RegExp(`${book.container}: no container: nothing to wait for; the next start will do nothing while backoff is on\\n$`));
  });
});

// The book's lock (HOME/jobs/.host.lock): a first `host run`/`host cron` of a
// book finds no HOME yet and makes it, one command at a time holds it, and a
// HOME that cannot be made is said, never a crash.
import t from "tap";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Book } from "../../src/host/book-types.ts";
import { lockBook } from "../../src/host/book-lock.ts";

const dir = mkdtempSync(join(tmpdir(), "boxinit-book-lock-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const bookAt = (home: string): Book => ({
  file: "t.book.yaml", name: "app", image: "app", entrypoint: false, command: undefined, ports: [], maps: [],
  home, env: {}, restart: undefined, healthcheck: undefined, network: undefined, hostname: undefined,
});
const recording = (): { lines: string[]; say: (line: string) => void } => {
  const lines: string[] = [];
  return { lines, say: (line) => lines.push(line) };
};

t.test("a HOME that does not exist yet is made, and the lock taken there", async (t) => {
  const home = join(dir, "fresh", "home");
  const out = recording();
  const first = lockBook(bookAt(home), "cron", out);
  t.same(out.lines, [], "nothing to say: no 'cannot lock (ENOENT)'");
  t.ok("lock" in first && first.lock, "taken");
  t.equal(statSync(join(home, "jobs", ".host.lock")).isFile(), true);
  t.equal(statSync(home).mode & 0o777, 0o755, "HOME made 0755 whatever the umask");
  const second = lockBook(bookAt(home), "run", recording());
  t.match(second, { heldBy: /pid \d+ \(boxinit host cron, since / }, "a second command sees who holds it");
  if ("lock" in first) first.lock?.release();
  const third = lockBook(bookAt(home), "run", recording());
  t.ok("lock" in third && third.lock, "free again once released");
  if ("lock" in third) third.lock?.release();
});

t.test("a HOME that cannot be made is said, and the command goes on without the lock", async (t) => {
  const file = join(dir, "a-file");
  writeFileSync(file, "");
  const out = recording();
  const attempt = lockBook(bookAt(join(file, "home")), "cron", out);
  t.same(attempt, { lock: undefined });
  t.match(out.lines[0], /cannot lock .*\.host\.lock \(ENOTDIR\): going on without protection/);
});

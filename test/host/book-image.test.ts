// A book's name, image, entrypoint and command (src/host/book-image.ts), read
// directly; the same keys through a whole book's messages: book.test.ts.
import t from "tap";
import type { Issues } from "../../src/config/schema.ts";
import { readBookCommand, readEntrypoint, readImage, readName } from "../../src/host/book-image.ts";

const fresh = (): Issues => ({ errors: [], warnings: [] });

t.test("readName and readImage: the name is the default repository when it is one", async (t) => {
  t.equal(readName("confluence", fresh()), "confluence");
  t.equal(readName("Confluence", fresh()), undefined);
  t.equal(readImage(undefined, "confluence", fresh()), "confluence");
  const notRepository = fresh();
  t.equal(readImage(undefined, "app.", notRepository), undefined);
  t.match(notRepository.errors, [/the default, the name "app\.", is not one/]);
  t.equal(readImage("localhost:5000/team/app", "x", fresh()), "localhost:5000/team/app", "a registry's port is no tag");
  const tagged = fresh();
  t.equal(readImage("app:1.0", "x", tagged), undefined);
  t.match(tagged.errors, [/a repository without a tag/]);
});

t.test("readEntrypoint and readBookCommand: entrypoint true needs a command", async (t) => {
  t.equal(readEntrypoint(undefined, fresh()), false);
  t.equal(readEntrypoint("true", fresh()), true);
  t.same(readEntrypoint(["/init"], fresh()), ["/init"]);
  t.equal(readEntrypoint("/init", fresh()), undefined, "no string form");
  t.same(readBookCommand([], false, fresh()), []);
  const missing = fresh();
  readBookCommand(undefined, true, missing);
  t.match(missing.errors, [/command: expected the command that replaces the entrypoint \(entrypoint is true\), got nothing/]);
});

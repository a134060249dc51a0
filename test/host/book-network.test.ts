// A book's port, network and hostname (src/host/book-network.ts), read
// directly; the same keys through a whole book's messages: book.test.ts.
import t from "tap";
import type { Issues } from "../../src/config/schema.ts";
import { readHostname, readNetwork, readPorts } from "../../src/host/book-network.ts";

const fresh = (): Issues => ({ errors: [], warnings: [] });

t.test("readPorts: tcp by default; a host port once per protocol; no leading zero", async (t) => {
  const issues = fresh();
  t.same(readPorts([{ src: "8090", dst: "8090" }, { src: "8090", dst: "53", protocol: "udp" }, { src: "8090", dst: "1" }], issues), [
    { src: 8090, dst: 8090, protocol: "tcp" }, { src: 8090, dst: 53, protocol: "udp" },
  ]);
  t.same(issues.errors, ['port[2].src: expected a host port not already published by port[0], got "8090"']);
  const octal = fresh();
  t.same(readPorts([{ src: "010", dst: "80" }], octal), []);
  t.match(octal.errors, [/^port\[0\]\.src: expected a port number 1-65535/]);
});

t.test("readNetwork and readHostname", async (t) => {
  t.equal(readNetwork(undefined, fresh()), undefined);
  t.equal(readNetwork("backend", fresh()), "backend");
  t.equal(readNetwork("two words", fresh()), undefined);
  t.equal(readHostname("db.example", fresh()), "db.example");
  t.equal(readHostname("-bad", fresh()), undefined);
  t.equal(readHostname("a".repeat(64), fresh()), undefined, "a label is at most 63");
});

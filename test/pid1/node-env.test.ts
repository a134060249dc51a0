// The carrier of a fresh start (issue 13, bug 7): what takeNodeEnvironment
// takes from BOXINIT_NODE_ENVIRONMENT, and what it refuses to take from it.
import t from "tap";
import { CARRIED_VARIABLE, carryNodeEnvironment, isFreshStart, nodeEnvironment, takeNodeEnvironment } from "../../src/pid1/node-env.ts";

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

t.test("a carried environment is the fresh start's Node variables; the carrier is taken out too", async (t) => {
  process.env.NODE_DEBUG = "set-by-someone-else";
  process.env[CARRIED_VARIABLE] = encode({ NODE_DEBUG: "net", NODE_V8_COVERAGE: "relative/dir", NOT_A_NODE_VARIABLE: "x", NODE_PATH: 3 });
  takeNodeEnvironment();
  t.ok(isFreshStart());
  t.same(nodeEnvironment(), { NODE_V8_COVERAGE: "relative/dir", NODE_DEBUG: "net" }, "only Node variables with string values");
  t.equal(process.env[CARRIED_VARIABLE], undefined, "the carrier is gone from boxinit's environment");
  t.equal(process.env.NODE_DEBUG, undefined, "and so are the Node variables");
  t.same(JSON.parse(Buffer.from(carryNodeEnvironment(), "base64url").toString()), nodeEnvironment(), "carried on unchanged");
});

t.test("a carrier that is not boxinit's encoding counts as no fresh start", async (t) => {
  for (const text of ["not base64 json", encode(null), encode(["NODE_DEBUG=x"]), encode("NODE_DEBUG")]) {
    process.env[CARRIED_VARIABLE] = text;
    takeNodeEnvironment();
    t.notOk(isFreshStart(), JSON.stringify(text));
    t.equal(process.env[CARRIED_VARIABLE], undefined, "still taken out: no child gets it");
  }
});

import t from "tap";
import { startOrder } from "../../src/config/order.ts";

const item = (name: string, ...after: string[]) => ({ name, after });

t.test("file order among independent services", async (t) => {
  t.same(startOrder([item("a"), item("b"), item("c")]), { order: ["a", "b", "c"], cycles: [] });
  t.same(startOrder([]), { order: [], cycles: [] });
});

t.test("a service waits for its after: list, otherwise keeps its place", async (t) => {
  t.same(startOrder([item("web", "db"), item("log"), item("db", "log")]).order, ["log", "db", "web"]);
  t.same(startOrder([item("c", "a", "b"), item("b"), item("a"), item("d")]).order, ["b", "a", "c", "d"]);
});

t.test("cycles are reported once each, and what hangs on them is left out", async (t) => {
  t.same(startOrder([item("a", "b"), item("b", "a"), item("free")]), { order: ["free"], cycles: [["a", "b", "a"]] });
  t.same(startOrder([item("self", "self")]).cycles, [["self", "self"]]);
  t.same(startOrder([item("x", "y"), item("y", "z"), item("z", "x"), item("w", "x")]), {
    order: [],
    cycles: [["x", "y", "z", "x"]],
  });
  t.same(startOrder([item("a", "b"), item("b", "a"), item("c", "d"), item("d", "c")]).cycles, [["a", "b", "a"], ["c", "d", "c"]]);
});

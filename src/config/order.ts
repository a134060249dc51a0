// Start order of services from their `after:` lists: a topological sort that
// keeps file order among services that do not depend on each other.

/** What the sort needs of a service. */
export interface OrderItem {
  name: string;
  after: string[];
}

export interface StartOrder {
  /** Names in start order (services caught in or behind a cycle are left out). */
  order: string[];
  /** Each cycle once, closed: ["a", "b", "a"]. */
  cycles: string[][];
}

/** Cycles among the given services, each found once, starting from its first service in file order. */
const findCycles = (items: OrderItem[]): string[][] => {
  const byName = new Map(items.map((item) => [item.name, item]));
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const next of byName.get(name)?.after ?? []) {
      if (!byName.has(next)) continue;
      if (state.get(next) === "visiting") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const item of items) if (!state.has(item.name)) visit(item.name);
  return cycles;
};

/** Kahn's sort, always taking the earliest ready service in file order; `after:` names must exist. */
export const startOrder = (items: OrderItem[]): StartOrder => {
  const placed = new Set<string>();
  const order: string[] = [];
  let pending = items;
  for (;;) {
    const ready = pending.find((item) => item.after.every((name) => placed.has(name)));
    if (!ready) break;
    placed.add(ready.name);
    order.push(ready.name);
    pending = pending.filter((item) => item !== ready);
  }
  return { order, cycles: pending.length === 0 ? [] : findCycles(pending) };
};

// Asserting boxinit's own decisions from its JSON log (--log-format json):
// that each step is there at all, then that the steps came in order, and the
// time boxinit stamped on each. Order and presence hold on a loaded machine;
// an "a before b" check that passes when a is missing (indexOf → -1) does not.
import type { Test } from "tap";
import { parseJsonLog, type LogEntry } from "./mini-vm.ts";

/** A log line to look for: its message (exact or a pattern) and fields it must carry. */
export interface Step {
  msg: string | RegExp;
  [field: string]: unknown;
}

type Asserter = Pick<Test, "fail" | "pass">;

const describeStep = (step: Step): string => {
  const { msg, ...fields } = step;
  const fieldText = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
  return `${typeof msg === "string" ? JSON.stringify(msg) : String(msg)}${fieldText}`;
};

const matches = (entry: LogEntry, step: Step): boolean => {
  const { msg, ...fields } = step;
  if (typeof msg === "string" ? entry.msg !== msg : !msg.test(entry.msg)) return false;
  return Object.entries(fields).every(([key, value]) => entry[key] === value);
};

/** Index of the first entry from `from` on that matches step, or -1. */
export const findStep = (entries: readonly LogEntry[], step: Step, from = 0): number =>
  entries.findIndex((entry, index) => index >= from && matches(entry, step));

/**
 * Assert that every step is in the JSON log of `stderr`, each after the one
 * before it. Returns the entries found (in step order) or undefined after
 * failing with the step that was missing or out of place and the whole log.
 */
export const assertLogOrder = (t: Asserter, stderr: string, steps: readonly Step[], message: string): LogEntry[] | undefined => {
  const entries = parseJsonLog(stderr);
  const found: LogEntry[] = [];
  let from = 0;
  for (const [index, step] of steps.entries()) {
    const at = findStep(entries, step, from);
    if (at === -1) {
      const anywhere = findStep(entries, step);
      const why = anywhere === -1 ? "is not in the log at all" : `is in the log only before step ${index} (${describeStep(steps[index - 1]!)})`;
      t.fail(`${message}: step ${index + 1}, ${describeStep(step)}, ${why}`, { log: entries.map((entry) => `${entry.event}: ${entry.msg}`) });
      return undefined;
    }
    found.push(entries[at]!);
    from = at + 1;
  }
  t.pass(message);
  return found;
};

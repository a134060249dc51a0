// The output relay of several services on the real binary, as PID 1 and as
// subreaper: two fast writers lose no line and never mix their lines; a
// 1 MB line without a newline arrives cut into marked pieces while PID 1's
// memory stays bounded; output that ends without a newline gets one; and a
// reader that stops reading boxinit's stdout blocks the services (not PID
// 1: it still takes SIGTERM and stops them), with nothing lost up to the stop.
import t from "tap";
import { readFileSync } from "node:fs";
import { MODES, killAllRuns, missingPrerequisite, startBoxinit, type BoxinitRun } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";
import { childrenOf, waitUntil } from "../helpers/proc.ts";
import { CUT_MARKER, MAX_LINE_BYTES } from "../../src/log/service-output.ts";

t.teardown(killAllRuns);

const PAD = "x".repeat(80);
const LINES = 100_000;
/** PID 1's private memory (RssAnon) bound: an idle PID 1's ~13 MiB + the 32 MiB the relay may add. */
const MAX_ANON_KIB = 45 * 1024;

/** A service writing `count` numbered lines "NAME 0000042 xxx…" (one write each; count 0: until stopped). */
const writer = (name: string, count: number, to = ""): string =>
  `"i=0; while [ ${count} -eq 0 ] || [ $i -lt ${count} ]; do printf '${name} %07d ${PAD}\\\\n' $i ${to}; i=$((i+1)); done"`;

/** The numbers of name's lines in output, checking each is whole; throws on a torn or foreign line. */
const numbersOf = (output: string, name: string): number[] => {
  const pattern = new RegExp(`^${name} \\| ${name} (\\d{7}) ${PAD}$`);
  return output.split("\n").filter((line) => line.startsWith(`${name} | `)).map((line) => {
    const match = pattern.exec(line);
    if (!match) throw new Error(`a torn or mixed line of ${name}: ${JSON.stringify(line.slice(0, 200))}`);
    return Number(match[1]);
  });
};

const isConsecutive = (numbers: number[]): boolean => numbers.every((n, i) => n === i);

/** RssAnon of pid in KiB (its private memory; the executable's mapped pages are not in it). */
const rssAnonKib = (pid: number): number => {
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : 0;
};

/** The wait channel of pid: "pipe_write" (or "anon_pipe_write") while it is blocked writing into a full pipe. */
const wchanOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/wchan`, "utf8");
  } catch {
    return "";
  }
};

for (const mode of MODES) {
  t.test(`${mode}: the output relay of several services`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("two fast writers: every line arrives, whole and in order, on stdout and stderr", async (t) => {
      const box = makeBox(t, [
        "services:",
        `  a: {command: ${writer("a", LINES)}, restart: "no", critical: false}`,
        `  b: {command: ${writer("b", LINES, ">&2")}, restart: "no", critical: false}`,
        `  c: {command: ${writer("c", LINES)}, restart: "no", critical: false}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, ["-q", ...box.args]);
      const ended = await run.result(120_000);
      t.equal(ended.code, 0);
      const outA = numbersOf(run.stdout, "a");
      const outC = numbersOf(run.stdout, "c");
      t.equal(outA.length, LINES, "a: every line");
      t.ok(isConsecutive(outA), "a: in order, none missing");
      t.equal(outC.length, LINES, "c: every line");
      t.ok(isConsecutive(outC), "c: in order, none missing");
      t.equal(run.stdout.length, 2 * LINES * `a | a 0000000 ${PAD}\n`.length, "stdout holds nothing else");
      const errB = numbersOf(run.stderr, "b");
      t.equal(errB.length, LINES, "b's stderr: every line");
      t.ok(isConsecutive(errB), "b's stderr: in order, none missing");
      const firstC = run.stdout.indexOf("c | ");
      t.ok(firstC > 0 && firstC < run.stdout.lastIndexOf("a | "), "a's and c's lines interleave (by whole lines)");
    });

    await t.test("a 1 MB line without a newline arrives in marked 64 KiB pieces; memory stays bounded; a last line gets its newline", async (t) => {
      // 64 MiB without a newline first: PID 1 must not hold it.
      const box = makeBox(t, [
        "services:",
        `  long: {command: "head -c 67108864 /dev/zero | tr '\\\\0' y; head -c 1048576 /dev/zero | tr '\\\\0' x; printf '\\\\nafter\\\\nno newline'", restart: "no", critical: false}`,
        `  other: {command: "printf 'one\\\\ntwo'", restart: "no", critical: false}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, ["-q", ...box.args]);
      const pid = await run.boxinitPid();
      let maxAnonKib = 0;
      while (!run.hasEnded) {
        try {
          maxAnonKib = Math.max(maxAnonKib, rssAnonKib(pid));
        } catch {
          break; // gone
        }
        await new Promise((wake) => setTimeout(wake, 10));
      }
      const ended = await run.result(60_000);
      t.equal(ended.code, 0);
      const lines = run.stdout.split(/(?<=\n)/);
      const ys = lines.filter((line) => line.startsWith("long | y"));
      t.equal(ys.length, 1024, "64 MiB of y: 1024 pieces of 64 KiB");
      t.ok(ys.every((line) => line === `long | ${"y".repeat(MAX_LINE_BYTES)}${CUT_MARKER}`), "each cut and marked");
      const xs = lines.filter((line) => line.startsWith("long | x"));
      t.equal(xs.length, 16, "1 MiB of x: 16 pieces");
      t.ok(xs.slice(0, 15).every((line) => line === `long | ${"x".repeat(MAX_LINE_BYTES)}${CUT_MARKER}`), "15 cut and marked");
      t.equal(xs[15], `long | ${"x".repeat(MAX_LINE_BYTES)}\n`, "the last piece ends where the line did");
      t.same(lines.filter((line) => line.startsWith("long | ")).slice(-2), ["long | after\n", "long | no newline\n"],
        "the lines after it follow; output ending without a newline gets one");
      t.same(lines.filter((line) => line.startsWith("other | ")), ["other | one\n", "other | two\n"], "the other service's lines whole, the last one ended");
      // An idle PID 1 holds about 10-13 MiB of its own; the target is at most 32 MiB more.
      t.ok(maxAnonKib > 0 && maxAnonKib < MAX_ANON_KIB, `PID 1's private memory stayed bounded: at most ${Math.round(maxAnonKib / 1024)} MiB while 65 MiB went through`);
    });

    await t.test("a reader that stops reading: the services block, PID 1 still stops them on SIGTERM, nothing lost up to the stop", async (t) => {
      const box = makeBox(t, [
        "grace: 5s",
        "services:",
        `  a: {command: ${writer("a", 0)}}`,
        `  b: {command: ${writer("b", 0)}, critical: false}`,
        "",
      ].join("\n"));
      const run: BoxinitRun = startBoxinit(mode, [...box.args]);
      // Nobody reads boxinit's stdout from now on (stderr, boxinit's own log, still flows).
      run.child.stdout!.pause();
      await box.waitForStatus("running");
      const pid = await run.boxinitPid();
      await waitUntil(() => {
        const services = childrenOf(pid);
        return services.length === 2 && services.every((service) => /pipe_write$/.test(wchanOf(service)));
      }, "both services are blocked writing into their full pipes", 20_000);
      const blockedAnonKib = rssAnonKib(pid);
      t.ok(blockedAnonKib < MAX_ANON_KIB, `PID 1 holds no growing backlog: ${Math.round(blockedAnonKib / 1024)} MiB`);
      await run.signal("SIGTERM");
      // While stdout is still full: PID 1 reacts and stops both services.
      await run.waitFor(/service a stopped/, "stderr");
      await run.waitFor(/service b stopped/, "stderr");
      run.child.stdout!.resume();
      const ended = await run.result(30_000);
      t.equal(ended.code, 0, "stopped within its grace");
      t.notMatch(run.stderr, /SIGKILL/, "nothing had to be killed");
      for (const name of ["a", "b"]) {
        const numbers = numbersOf(run.stdout, name);
        t.ok(numbers.length > 0, `${name} wrote until it was blocked (${numbers.length} lines)`);
        t.ok(isConsecutive(numbers), `${name}: every line written up to the stop arrived, whole and in order`);
      }
    });
  });
}

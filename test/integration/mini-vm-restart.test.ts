// Mini-VM mode, what happens when a service ends: restart policies with their
// growing delay and cap, giving up after max_restarts, and what the end of a
// service means for the container (critical or not, exit code or signal).
import t from "tap";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, ROOT, fixture, killAllRuns, missingPrerequisite, sleep, startBoxinit, type BoxinitRun } from "../helpers/boxinit.ts";
import { makeBox, waitForJson, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const FIX = join(ROOT, "test/fixtures/services");


/** Every distinct value of services.NAME.restarts seen in status.json until the run ends. */
const watchRestarts = async (box: Box, run: BoxinitRun, name: string): Promise<number[]> => {
  const seen: number[] = [];
  let hasEnded = false;
  void run.ended.then(() => {
    hasEnded = true;
  });
  const deadline = Date.now() + 15_000;
  while (!hasEnded && Date.now() < deadline) {
    const restarts = box.statusJson()?.services?.[name]?.restarts;
    if (typeof restarts === "number" && seen.at(-1) !== restarts) seen.push(restarts);
    await sleep(5);
  }
  const last = box.statusJson()?.services?.[name]?.restarts;
  if (typeof last === "number" && seen.at(-1) !== last) seen.push(last);
  return seen;
};

/** Start times (ms, from the ns stamps stamp-exit.sh writes) and the gaps between them. */
const startGaps = (file: string): { starts: number; gapsMs: number[] } => {
  const stamps = readFileSync(file, "utf8").trim().split("\n").map((line) => BigInt(line));
  const gapsMs = stamps.slice(1).map((stamp, index) => Number(stamp - stamps[index]!) / 1e6);
  return { starts: stamps.length, gapsMs };
};

const isSorted = (values: readonly number[]): boolean => values.every((value, index) => index === 0 || value >= values[index - 1]!);

for (const mode of MODES) {
  t.test(`${mode}: Mini-VM restarts and service ends`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("on-failure: delays grow 100ms, 200ms, 400ms; after 3 restarts it gives up; the only service is critical: exit 1, failed", async (t) => {
      const box = makeBox(t, [
        "services:",
        "  flaky:",
        `    command: [${FIX}/stamp-exit.sh, BOX/starts, "1"]`,
        "    restart: on-failure",
        "    restart_delay: 100ms",
        "    restart_max_delay: 400ms",
        "    max_restarts: 3",
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      const seen = await watchRestarts(box, run, "flaky");
      const ended = await run.result();
      t.equal(ended.code, 1, "the critical service's own exit code");
      t.equal(box.status(), "failed");
      t.ok(isSorted(seen) && seen.length > 1, `services.flaky.restarts went up while it ran (seen: ${seen.join(", ")})`);
      t.equal(seen.at(-1), 3, "and ended at 3");
      t.match(box.statusJson(), { state: "failed", exitCode: 1, services: { flaky: { state: "failed", restarts: 3, lastExit: { code: 1, signal: null } } } });

      const delays = [...run.stderr.matchAll(/service flaky exited with code 1; restarting in (\S+)/g)].map((match) => match[1]);
      t.same(delays, ["100ms", "200ms", "400ms"], "each delay doubles, up to restart_max_delay");
      t.match(run.stderr, /service flaky: exited with code 1 after 3 restarts in a row \(max_restarts: 3;.*\); giving up/);
      t.match(run.stderr, /stopping: critical service flaky ended/);

      const { starts, gapsMs } = startGaps(join(box.dir, "starts"));
      t.equal(starts, 4, "the first run and 3 restarts");
      const shown = gapsMs.map((gap) => `${Math.round(gap)}ms`).join(", ");
      // Lower bounds only: a timer never fires early, but a busy machine may start a run late.
      t.ok(gapsMs[0]! >= 95 && gapsMs[1]! >= 195 && gapsMs[2]! >= 395, `no restart came before its delay (gaps: ${shown})`);
      t.ok(gapsMs.every((gap, index) => index === 0 || gap + 250 >= gapsMs[index - 1]!), `the gaps between starts do not shrink (gaps: ${shown})`);
    });

    await t.test("always: a command that exits 0 is restarted too; the delay stops at restart_max_delay", async (t) => {
      const box = makeBox(t, [
        "services:",
        "  ticker:",
        `    command: [${FIX}/stamp-exit.sh, BOX/starts, "0"]`,
        "    restart: always",
        "    restart_delay: 50ms",
        "    restart_max_delay: 100ms",
        "    max_restarts: 3",
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      const seen = await watchRestarts(box, run, "ticker");
      const ended = await run.result();
      const delays = [...run.stderr.matchAll(/service ticker exited with code 0; restarting in (\S+)/g)].map((match) => match[1]);
      t.same(delays, ["50ms", "100ms", "100ms"], "restarted after exit 0; 50ms doubled, then held at the 100ms cap");
      t.equal(startGaps(join(box.dir, "starts")).starts, 4, "the first run and 3 restarts");
      t.equal(seen.at(-1), 3);
      t.match(run.stderr, /service ticker: exited with code 0 after 3 restarts in a row .*; giving up/);
      t.equal(ended.code, 0, "the critical service ended with 0");
      t.equal(box.status(), "stopped", "a clean end is stopped, not failed");
      t.match(box.statusJson(), { exitCode: 0, services: { ticker: { state: "exited", restarts: 3, lastExit: { code: 0 } } } });
    });

    await t.test("a run that lasted stable_after resets the count: the delay stays at restart_delay and it never gives up", async (t) => {
      // Each run lasts 0.3 s, longer than stable_after: 200ms, so max_restarts: 2 is never reached.
      const box = makeBox(t, [
        "services:",
        "  steady:",
        `    command: [${FIX}/run-then-fail.sh, BOX/starts, "0.3"]`,
        "    restart: on-failure",
        "    restart_delay: 50ms",
        "    stable_after: 200ms",
        "    max_restarts: 2",
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await waitForJson(box, (json) => json.services?.steady?.restarts >= 4, "services.steady.restarts >= 4");
      // The only service is critical: the box is degraded during each 50ms restart delay, running between them.
      await box.waitForStatus("running");
      t.pass("the box is running between restarts");
      // restarts counts in status.json at once; each restart's log line (written before it) reaches this test through a pipe.
      await run.waitFor(/(service steady exited with code 1; restarting in \S+[^]*?){4}/, "stderr");
      const delays = [...run.stderr.matchAll(/service steady exited with code 1; restarting in (\S+)/g)].map((match) => match[1]);
      t.ok(delays.length >= 4 && delays.every((delay) => delay === "50ms"), `every delay is the first one (${delays.join(", ")})`);
      t.notMatch(run.stderr, /giving up/);
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.equal(box.status(), "stopped");
    });

    await t.test("a stop during the restart delay does not wait for it and starts nothing more", async (t) => {
      const box = makeBox(t, [
        "services:",
        `  flaky: {command: [${FIX}/stamp-exit.sh, BOX/starts, "1"], restart: on-failure, restart_delay: 10m}`,
        `  keeper: {command: [${fixture("signal-echo")}]}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^keeper \| ready$/m);
      await waitForJson(box, (json) => json.services?.flaky?.state === "restarting", "services.flaky.state restarting");
      await run.signal("SIGTERM");
      // A minute is nothing next to the 10 min delay, and plenty on a loaded machine.
      const ended = await run.result(60_000);
      t.equal(ended.code, 0, "ended long before the 10 min delay");
      t.equal(box.status(), "stopped");
      t.match(box.statusJson(), { services: { flaky: { state: "stopped", restarts: 0 }, keeper: { state: "stopped" } } });
      t.equal(startGaps(join(box.dir, "starts")).starts, 1, "flaky was not started again");
    });

    await t.test("restart: no, exit 0 of a service that is not critical: the other keeps running, the state stays running", async (t) => {
      const box = makeBox(t, [
        "services:",
        `  oneshot: {command: [${FIX}/stamp-exit.sh, BOX/starts, "0"], restart: no}`,
        `  keeper: {command: [${fixture("signal-echo")}]}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^keeper \| ready$/m);
      await waitForJson(box, (json) => json.services?.oneshot?.state === "exited", "services.oneshot.state exited");
      await run.waitFor(/service oneshot is not critical: the container keeps running without it/, "stderr");
      t.equal(box.status(), "running", "the container is still running");
      t.match(box.statusJson(), {
        state: "running",
        services: { oneshot: { state: "exited", restarts: 0, pid: null, lastExit: { code: 0 } }, keeper: { state: "running" } },
      });
      // Still alive and served: a forwarded signal reaches keeper.
      await run.signal("SIGHUP");
      await run.waitFor(/^keeper \| signal HUP$/m);
      t.equal(box.status(), "running");
      t.notMatch(run.stderr, /stopping|restarting in/, "no stop, no restart");
      t.equal(startGaps(join(box.dir, "starts")).starts, 1, "oneshot ran once");
      await run.signal("SIGTERM");
      const ended = await run.result();
      t.equal(ended.code, 0);
      t.equal(box.status(), "stopped");
      t.match(box.statusJson(), { services: { oneshot: { state: "exited" }, keeper: { state: "stopped" } } });
    });

    await t.test("a critical service that exits 5 while another runs: everything is stopped, exit 5, failed", async (t) => {
      const box = makeBox(t, [
        "services:",
        `  crit: {command: [${FIX}/exit-on-go.sh, BOX/go, "5"], critical: true}`,
        `  other: {command: [${FIX}/term-logger.sh, other, BOX/order]}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^crit \| waiting$/m);
      await run.waitFor(/^other \| other ready$/m);
      await box.waitForStatus("running");
      writeFileSync(join(box.dir, "go"), "");
      const ended = await run.result();
      t.equal(ended.code, 5, "the critical service's exit code");
      t.equal(box.status(), "failed");
      t.match(run.stderr, /stopping: critical service crit ended/);
      t.equal(readFileSync(join(box.dir, "order"), "utf8"), "other got TERM\n", "the other service was stopped with TERM");
      t.match(run.stdout, /^other \| other got TERM$/m);
      t.match(box.statusJson(), { exitCode: 5, services: { crit: { state: "failed", lastExit: { code: 5 } }, other: { state: "stopped" } } });
      t.notMatch(run.stderr, /restarting in|killed/);
    });

    await t.test("a critical service killed by SIGKILL: exit 137, failed", async (t) => {
      const box = makeBox(t, [
        "services:",
        `  crit: {command: [${FIX}/exit-on-go.sh, BOX/go, KILL], critical: true}`,
        `  other: {command: [${fixture("signal-echo")}]}`,
        "",
      ].join("\n"));
      const run = startBoxinit(mode, box.args);
      await run.waitFor(/^crit \| waiting$/m);
      await run.waitFor(/^other \| ready$/m);
      await box.waitForStatus("running");
      writeFileSync(join(box.dir, "go"), "");
      const ended = await run.result();
      t.equal(ended.code, 137, "128 + SIGKILL, never 0");
      t.equal(box.status(), "failed");
      t.match(run.stderr, /stopping: critical service crit ended/);
      t.match(run.stdout, /^other \| signal TERM$/m, "the other service was stopped");
      t.match(box.statusJson(), { exitCode: 137, services: { crit: { state: "failed", lastExit: { code: null, signal: "SIGKILL" } } } });
    });
  });
}

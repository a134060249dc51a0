// Mini-VM mode, config problems through the real binary: `boxinit --config F`
// and `boxinit check --config F` exit 2 before anything starts (no init script,
// no service, no status file) and print every problem with its path; a good
// config's `check` prints the start plan.
import t from "tap";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODES, ROOT, killAllRuns, missingPrerequisite, runBoxinit, type Mode } from "../helpers/boxinit.ts";
import { makeBox, type Box } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const CONFIG_FIXTURES = join(ROOT, "test/fixtures/config");

// A service and an init script that leave a file behind if they ever run.
const MARKER_SERVICE = '  marker: {command: "touch BOX/service-ran"}';
const addInitMarker = (box: Box): void => {
  box.script("init.d/10-mark", `touch ${join(box.dir, "init-ran")}\n`);
};

/** A subtest's `t` (the last overload of t.test takes only the callback). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

const header = (file: string, count: number): string =>
  `boxinit: config: ${file}: ${count} problem${count === 1 ? "" : "s"}; nothing was started`;

/** `boxinit --config F` and `boxinit check --config F`, each checked the same way. */
const VARIANTS: ReadonlyArray<{ name: string; args: (config: string) => string[] }> = [
  { name: "boxinit --config", args: (config) => ["--config", config] },
  { name: "boxinit check --config", args: (config) => ["check", "--config", config] },
];

/** Run a bad config both ways; exit 2, exactly these lines on stderr, nothing started. */
const expectRefused = async (t: TapTest, mode: Mode, box: Box, problems: readonly string[], env?: NodeJS.ProcessEnv): Promise<void> => {
  for (const variant of VARIANTS) {
    const result = await runBoxinit(mode, variant.args(box.configPath), { env, timeoutMs: 10_000 });
    t.equal(result.code, 2, `${variant.name}: exit 2`);
    t.same(result.stderr.trimEnd().split("\n"), [header(box.configPath, problems.length), ...problems.map((problem) => `  ${problem}`)],
      `${variant.name}: every problem, with its path, under one header`);
    t.equal(result.stdout, "", `${variant.name}: no plan, no service output`);
    t.notOk(existsSync(join(box.dir, "service-ran")), `${variant.name}: the service was not started`);
    t.notOk(existsSync(join(box.dir, "init-ran")), `${variant.name}: the init script did not run`);
    t.equal(box.status(), undefined, `${variant.name}: no status file was written`);
  }
};

// The bad fixtures of the loader's unit tests, with the loader's exact messages
// (test/config/load.test.ts): the binary must print the same, in the same order.
const FIXTURE_PROBLEMS: Record<string, string[]> = {
  "bad-syntax.yaml": [
    `${join(CONFIG_FIXTURES, "bad-syntax.yaml")}:4:3: Flow sequence in block collection must be sufficiently indented and end with a ]`,
  ],
  "bad-unknown-key.yaml": [
    'grce: unknown key (did you mean "grace"?)',
    "color: unknown key",
    'services.web.comand: unknown key (did you mean "command"?)',
    "services.web.command: expected a command (a list of strings, or a string for sh -c), got nothing",
    'services.web.warmup.intervall: unknown key (did you mean "interval"?)',
  ],
  "bad-type.yaml": [
    'state_dir: expected an absolute path, got "relative/dir"',
    "links: expected a map of link paths to targets, got a list",
    "services.web.command: expected a command (a list of strings, or a string for sh -c), got a map",
    "services.web.env: expected a map of variable names to values, got a list",
    'services.web.max_restarts: expected a whole number 0 or more, got "-1"',
    "services.web.after[0]: expected a name, got a list",
    'services.web.critical: expected true|false, got "yes"',
  ],
  "bad-duration.yaml": [
    'grace: expected a duration such as 250ms, 9s, 5m, got "9 seconds"',
    'heartbeat: expected a duration above 0, got "0s"',
    'services.web.restart_delay: expected a duration such as 250ms, 9s, 5m, got "10"',
    'services.web.warmup.timeout: expected a duration up to 596h (the timer limit), got "1000h"',
  ],
  "bad-cycle.yaml": [
    'services.c.after: no such service "ghost"',
    "services: dependency cycle: a -> b -> a",
    "services: dependency cycle: c -> c",
  ],
  "bad-signal.yaml": [
    'services.web.stop_signal: expected a signal name such as TERM or SIGINT, got "SIGFOO"',
    'services.worker.stop_signal: expected a signal that ends a process (STOP only pauses it), got "STOP"',
    'services.other.stop_signal: expected a signal name such as TERM or SIGINT, got "99"',
  ],
};

for (const mode of MODES) {
  t.test(`${mode}: Mini-VM config problems`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    // One problem of each kind beside a service that would leave a marker.
    const cases: Array<{ name: string; yaml: string[]; problems: string[] }> = [
      {
        name: "unknown keys, with did-you-mean",
        yaml: ["grce: 2s", "services:", MARKER_SERVICE, "  web: {comand: [/bin/true]}"],
        problems: [
          'grce: unknown key (did you mean "grace"?)',
          'services.web.comand: unknown key (did you mean "command"?)',
          "services.web.command: expected a command (a list of strings, or a string for sh -c), got nothing",
        ],
      },
      {
        name: "wrong types",
        yaml: ["services:", MARKER_SERVICE, "  web: {command: {run: /bin/true}, critical: yes}"],
        problems: [
          "services.web.command: expected a command (a list of strings, or a string for sh -c), got a map",
          'services.web.critical: expected true|false, got "yes"',
        ],
      },
      {
        name: "bad durations",
        yaml: ["grace: 9 seconds", "services:", MARKER_SERVICE, "  web: {command: [/bin/true], restart_delay: 10}"],
        problems: [
          'grace: expected a duration such as 250ms, 9s, 5m, got "9 seconds"',
          'services.web.restart_delay: expected a duration such as 250ms, 9s, 5m, got "10"',
        ],
      },
      {
        name: "an unknown user",
        yaml: ["services:", MARKER_SERVICE, "  web: {command: [/bin/true], user: nobodyx}"],
        problems: ['services.web.user: no such user "nobodyx" in /etc/passwd'],
      },
      {
        name: "a dependency cycle",
        yaml: ["services:", MARKER_SERVICE, "  a: {command: [/bin/true], after: [b]}", "  b: {command: [/bin/true], after: a}"],
        problems: ["services: dependency cycle: a -> b -> a"],
      },
      {
        name: "bad signal names",
        yaml: ["services:", MARKER_SERVICE, "  web: {command: [/bin/true], stop_signal: SIGFOO}", "  db: {command: [/bin/true], stop_signal: STOP}"],
        problems: [
          'services.web.stop_signal: expected a signal name such as TERM or SIGINT, got "SIGFOO"',
          'services.db.stop_signal: expected a signal that ends a process (STOP only pauses it), got "STOP"',
        ],
      },
    ];
    for (const { name, yaml, problems } of cases) {
      await t.test(`refused before anything starts: ${name}`, async (t) => {
        const box = makeBox(t, `${yaml.join("\n")}\n`);
        addInitMarker(box);
        await expectRefused(t, mode, box, problems);
      });
    }

    await t.test("the loader's bad fixtures: the binary prints exactly the loader's messages", async (t) => {
      for (const [file, problems] of Object.entries(FIXTURE_PROBLEMS)) {
        const path = join(CONFIG_FIXTURES, file);
        for (const variant of VARIANTS) {
          const result = await runBoxinit(mode, variant.args(path), { timeoutMs: 10_000 });
          t.equal(result.code, 2, `${file}, ${variant.name}: exit 2`);
          t.same(result.stderr.trimEnd().split("\n"), [header(path, problems.length), ...problems.map((problem) => `  ${problem}`)], `${file}, ${variant.name}`);
        }
      }
    });

    await t.test("BOXINIT_GRACE=soon: exit 2, named by the variable", async (t) => {
      const box = makeBox(t, `services:\n${MARKER_SERVICE}\n`);
      addInitMarker(box);
      for (const variant of VARIANTS) {
        const result = await runBoxinit(mode, variant.args(box.configPath), { env: { BOXINIT_GRACE: "soon" }, timeoutMs: 10_000 });
        t.equal(result.code, 2, `${variant.name}: exit 2`);
        t.match(result.stderr, /BOXINIT_GRACE: expected a duration such as 250ms, 9s, 5m, got "soon"/, `${variant.name}: names BOXINIT_GRACE and the value`);
        t.notOk(existsSync(join(box.dir, "service-ran")), `${variant.name}: the service was not started`);
        t.notOk(existsSync(join(box.dir, "init-ran")), `${variant.name}: the init script did not run`);
        t.equal(box.status(), undefined, `${variant.name}: no status file`);
      }
    });

    await t.test("--config naming a file that does not exist: exit 2, naming the file", async (t) => {
      for (const variant of VARIANTS) {
        const result = await runBoxinit(mode, variant.args("/nonexistent.yaml"), { timeoutMs: 10_000 });
        t.equal(result.code, 2, `${variant.name}: exit 2`);
        t.same(result.stderr.trimEnd().split("\n"), [
          header("/nonexistent.yaml", 1),
          "  /nonexistent.yaml: cannot read the config file: ENOENT: no such file or directory",
        ], `${variant.name}: the file and why`);
      }
      const viaEnv = await runBoxinit(mode, [], { env: { BOXINIT_CONFIG: "/nonexistent.yaml" }, timeoutMs: 10_000 });
      t.equal(viaEnv.code, 2, "BOXINIT_CONFIG naming a missing file: exit 2 as well");
      t.match(viaEnv.stderr, "/nonexistent.yaml: cannot read the config file: ENOENT");
    });

    await t.test("no services and no command: exit 2, nothing to run", async (t) => {
      const box = makeBox(t, "");
      const empty = join(box.dir, "empty.yaml");
      writeFileSync(empty, "");
      const result = await runBoxinit(mode, ["--config", empty], { timeoutMs: 10_000 });
      t.equal(result.code, 2);
      t.match(result.stderr, `boxinit: usage: nothing to run: no services or scheduled jobs in ${empty} and no command`);
      t.equal(result.stdout, "");
    });

    await t.test("check of a good config prints the plan, services in start order, and starts nothing", async (t) => {
      // web is first in the file but comes after db and cache, which keep their file order.
      const box = makeBox(t, [
        "grace: 5s",
        "services:",
        '  web: {command: "touch BOX/web-ran", after: [db, cache], stop_signal: INT}',
        '  db: {command: "touch BOX/db-ran", restart: on-failure, restart_delay: 250ms}',
        '  cache: {command: "touch BOX/cache-ran", critical: true}',
        "",
      ].join("\n"));
      addInitMarker(box);
      const result = await runBoxinit(mode, ["check", "--config", box.configPath], { timeoutMs: 10_000 });
      t.equal(result.code, 0);
      t.equal(result.stderr, "", "no warnings");
      const plan = result.stdout;
      t.match(plan, `config: ${box.configPath}\n`);
      t.match(plan, `state dir: ${box.stateDir}\n`);
      t.match(plan, "grace: 5s\n");
      const order = [...plan.matchAll(/^ {2}(\d+)\. (\S+)$/gm)].map((match) => `${match[1]}. ${match[2]}`);
      t.same(order, ["1. db", "2. cache", "3. web"], "start order: db and cache (file order), then web after both");
      t.match(plan, /3\. web\n(?: {5}.*\n)* {5}after: db, cache\n/, "web says what it waits for");
      t.match(plan, /3\. web\n(?: {5}.*\n)* {5}stop: SIGINT to its process group\n/);
      t.match(plan, /1\. db\n(?: {5}.*\n)* {5}restart: on-failure, after 250ms doubling/);
      t.match(plan, /2\. cache\n(?: {5}.*\n)* {5}critical: yes/);
      t.match(plan, /1\. db\n(?: {5}.*\n)* {5}critical: no\n/, "with several services, none is critical unless marked");
      t.match(plan, "shutdown: web, cache, db, then finish scripts, all within 5s\n", "stopped in reverse start order");
      for (const name of ["web-ran", "db-ran", "cache-ran", "init-ran"]) t.notOk(existsSync(join(box.dir, name)), `check ran nothing: no ${name}`);
      t.equal(box.status(), undefined, "check writes no status file");
    });
  });
}

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { loadConfig, resolveConfigPath } from "../../src/config/load.ts";
import { configOf, errorsOf, FIXTURES, GROUP, load, PASSWD, textLoader } from "../helpers/config-load.ts";

/** Load YAML text, for cases too small for a fixture of their own. */
const loadText = textLoader(t);

t.test("the SPEC example (without jobs) loads to exactly this", async (t) => {
  const result = await load("good.yaml");
  t.ok(result.ok);
  t.same(result.ok && result.warnings, []);
  t.strictSame({ ...configOf(result) }, {
    source: join(FIXTURES, "good.yaml"),
    stateDir: "/docker",
    graceMs: 9000,
    heartbeatMs: 30_000,
    initDir: "/etc/boxinit/init.d",
    finishDir: "/etc/boxinit/finish.d",
    backoffFile: "/docker/backoff",
    backoffOnEngage: "exit",
    backoffWatch: "inotify",
    backoffPollMs: 1000,
    links: [{ link: "/opt/atlassian/confluence/conf/server.xml", target: "/docker/server.xml" }],
    services: [
      {
        name: "confluence",
        command: ["/opt/atlassian/confluence/bin/start-confluence.sh"],
        env: { CATALINA_OPTS: "-Xmx2g" },
        stopSignal: 15,
        restart: "on-failure",
        restartDelayMs: 1000,
        restartMaxDelayMs: 60_000,
        maxRestarts: 10,
        stableAfterMs: 10_000,
        after: [],
        pidfileTimeoutMs: 60_000,
        logFile: true,
        stop: ["/opt/atlassian/confluence/bin/stop-confluence.sh"],
        pidfile: "/opt/atlassian/confluence/work/catalina.pid",
        warmup: {
          check: { kind: "http", url: "http://localhost:8090/confluence", expect: "any" },
          intervalMs: 2000,
          tryTimeoutMs: 5000,
          timeoutMs: 600_000,
          onTimeout: "fail",
        },
        user: { name: "confluence", uid: 2002, gid: 2002, groups: [2002, 4, 999], home: "/var/atlassian/application-data/confluence" },
        critical: false,
      },
      {
        name: "shipper",
        command: ["/bin/sh", "-c", "exec fluent-bit -c /etc/fluent-bit.conf"],
        env: {},
        stopSignal: 15,
        restart: "always",
        restartDelayMs: 1000,
        restartMaxDelayMs: 60_000,
        maxRestarts: 10,
        stableAfterMs: 10_000,
        after: [],
        pidfileTimeoutMs: 60_000,
        logFile: true,
        critical: false,
      },
    ],
    jobs: [],
    jobLogs: { keep: 100, maxAgeMs: 30 * 86_400_000 },
  });
});

t.test("every key arrives where it belongs", async (t) => {
  const config = configOf(await load("full.yaml"));
  t.match(config, {
    stateDir: "/srv/state", graceMs: 20_000, heartbeatMs: 60_000, initDir: "/srv/init.d", finishDir: "/srv/finish.d",
    backoffWatch: "poll", backoffPollMs: 250,
  });
  t.same(config.links.map((link) => link.link), ["/etc/app/app.conf", "/etc/app/extra.conf"], "links in file order");
  t.same(config.services.map((service) => service.name), ["db", "web"], "db first: web is after it");
  const [db, web] = config.services;
  t.same(web?.command, ["/usr/bin/web", "--port", "8080", "1.10"], "numbers stay as written");
  t.same(web?.env, { PORT: "8080", VERSION: "1.10", DEBUG: "no", EMPTY: "" }, "env values as written; empty is empty");
  t.same(web?.user, { name: "confluence", uid: 2002, gid: 999, groups: [999, 4], home: "/var/atlassian/application-data/confluence" },
    "numeric user found by uid; group: replaces the primary gid");
  t.match(web, {
    cwd: "/srv/web", stop: ["/bin/sh", "-c", "/usr/bin/web-stop --now"], stopSignal: 3, restart: "always",
    restartDelayMs: 500, restartMaxDelayMs: 30_000, maxRestarts: 0, stableAfterMs: 60_000, after: ["db"], critical: true,
    warmup: { check: { kind: "command", command: ["/usr/bin/curl", "-sf", "http://localhost:8080/health"] },
      intervalMs: 2000, tryTimeoutMs: 1000, timeoutMs: 3_600_000, onTimeout: "continue" },
  });
  t.match(db, {
    stopSignal: 2, restart: "no", pidfile: "/run/db.pid", pidfileTimeoutMs: 120_000, critical: false,
    user: { name: "app", uid: 1000, gid: 1000, groups: [1000, 999], home: "/home/app" },
    warmup: { check: { kind: "http", url: "http://127.0.0.1:5432/ready", expect: "2xx" } },
  });
});

t.test("an empty file, or one with only comments, is all defaults", async (t) => {
  for (const file of ["empty.yaml", "comments-only.yaml"]) {
    const config = configOf(await load(file));
    t.same(config, {
      source: join(FIXTURES, file), stateDir: "/docker", graceMs: 9000, heartbeatMs: 30_000, initDir: "/etc/boxinit/init.d",
      finishDir: "/etc/boxinit/finish.d", backoffFile: "/docker/backoff", backoffOnEngage: "exit", backoffWatch: "inotify", backoffPollMs: 1000, links: [], services: [],
      jobs: [], jobLogs: { keep: 100, maxAgeMs: 30 * 86_400_000 },
    }, file);
  }
});

t.test("which file: --config, then BOXINIT_CONFIG, then the optional default", async (t) => {
  t.same(resolveConfigPath("/a.yaml", { BOXINIT_CONFIG: "/b.yaml" }), { path: "/a.yaml", isExplicit: true });
  t.same(resolveConfigPath(undefined, { BOXINIT_CONFIG: "/b.yaml" }), { path: "/b.yaml", isExplicit: true });
  t.same(resolveConfigPath(undefined, { BOXINIT_CONFIG: "" }), { path: "/etc/boxinit/boxinit.yaml", isExplicit: false });
  const viaEnv = await loadConfig({ env: { BOXINIT_CONFIG: join(FIXTURES, "good.yaml") }, passwdFile: PASSWD, groupFile: GROUP, isRoot: true });
  t.equal(configOf(viaEnv).source, join(FIXTURES, "good.yaml"));
});

t.test("a missing default file means defaults; a missing named file is an error", async (t) => {
  // The default path is a temp one: the host's /etc/boxinit/boxinit.yaml changes nothing here.
  const defaultPath = join(t.testdir(), "default-boxinit.yaml");
  t.notOk(existsSync(defaultPath), "the default file is missing");
  const config = configOf(await loadConfig({ env: {}, defaultPath }));
  t.equal(config.source, undefined);
  t.equal(config.stateDir, "/docker");
  writeFileSync(defaultPath, "state_dir: /from-default\n");
  t.match(configOf(await loadConfig({ env: {}, defaultPath })), { source: defaultPath, stateDir: "/from-default" }, "an existing default file is read");
  const missing = join(FIXTURES, "no-such.yaml");
  t.same(errorsOf(await loadConfig({ env: { BOXINIT_CONFIG: missing } })), [`${missing}: cannot read the config file: ENOENT: no such file or directory`]);
  t.same(errorsOf(await loadConfig({ path: FIXTURES, env: {} })), [`${FIXTURES}: cannot read the config file: not a regular file`]);
});

t.test("BOXINIT_* variables win over the file, --state-dir/--grace over both", async (t) => {
  const env = {
    BOXINIT_STATE_DIR: "/env/state", BOXINIT_GRACE: "3s", BOXINIT_HEARTBEAT: "5s", BOXINIT_INIT_DIR: "/env/init",
    BOXINIT_FINISH_DIR: "/env/finish", BOXINIT_BACKOFF_WATCH: "inotify", BOXINIT_BACKOFF_POLL_INTERVAL: "2s",
  };
  t.match(configOf(await load("full.yaml", { env })), {
    stateDir: "/env/state", graceMs: 3000, heartbeatMs: 5000, initDir: "/env/init", finishDir: "/env/finish",
    backoffWatch: "inotify", backoffPollMs: 2000,
  });
  t.match(configOf(await load("full.yaml", { env, overrides: { stateDir: "/flag", graceMs: 1500 } })), { stateDir: "/flag", graceMs: 1500 });
  t.match(configOf(await load("full.yaml", { env: { BOXINIT_GRACE: "" } })), { graceMs: 20_000 }, "an empty variable is no override");
});

t.test("bad overrides are named by their variable or flag", async (t) => {
  const env = { BOXINIT_GRACE: "9 seconds", BOXINIT_BACKOFF_WATCH: "fanotify", BOXINIT_STATE_DIR: "docker", BOXINIT_HEARTBEAT: "0ms" };
  t.same(errorsOf(await load("empty.yaml", { env, overrides: { stateDir: "rel" } })), [
    '--state-dir: expected an absolute path, got "rel"',
    'BOXINIT_STATE_DIR: expected an absolute path, got "docker"',
    'BOXINIT_GRACE: expected a duration such as 250ms, 9s, 5m, got "9 seconds"',
    'BOXINIT_HEARTBEAT: expected a duration above 0, got "0ms"',
    'BOXINIT_BACKOFF_WATCH: expected inotify|poll, got "fanotify"',
  ]);
});

t.test("unknown keys, with a hint when one is close", async (t) => {
  t.same(errorsOf(await load("bad-unknown-key.yaml")), [
    'grce: unknown key (did you mean "grace"?)',
    "color: unknown key",
    'services.web.comand: unknown key (did you mean "command"?)',
    "services.web.command: expected a command (a list of strings, or a string for sh -c), got nothing",
    'services.web.warmup.intervall: unknown key (did you mean "interval"?)',
  ]);
});

t.test("wrong types", async (t) => {
  t.same(errorsOf(await load("bad-type.yaml")), [
    'state_dir: expected an absolute path, got "relative/dir"',
    "links: expected a map of link paths to targets, got a list",
    "services.web.command: expected a command (a list of strings, or a string for sh -c), got a map",
    "services.web.env: expected a map of variable names to values, got a list",
    'services.web.max_restarts: expected a whole number 0 or more, got "-1"',
    "services.web.after[0]: expected a name, got a list",
    'services.web.critical: expected true|false, got "yes"',
  ]);
});

t.test("bad durations", async (t) => {
  t.same(errorsOf(await load("bad-duration.yaml")), [
    'grace: expected a duration such as 250ms, 9s, 5m, got "9 seconds"',
    'heartbeat: expected a duration above 0, got "0s"',
    'services.web.restart_delay: expected a duration such as 250ms, 9s, 5m, got "10"',
    'services.web.warmup.timeout: expected a duration up to 596h (the timer limit), got "1000h"',
  ]);
});

t.test("unknown users and groups", async (t) => {
  t.same(errorsOf(await load("bad-user.yaml")), [
    `services.web.user: no such user "nobodyx" in ${PASSWD}`,
    `services.worker.group: no such group "wheel" in ${GROUP}`,
  ]);
  const missing = join(FIXTURES, "no-passwd");
  t.same(errorsOf(await load("bad-user.yaml", { passwdFile: missing })), [
    `services.web.user: no such user "nobodyx" in ${missing} (cannot read it: ENOENT: no such file or directory)`,
    `services.worker.user: no such user "app" in ${missing} (cannot read it: ENOENT: no such file or directory)`,
  ]);
});

t.test("a uid that is not in passwd is used as Docker does: gid 0, HOME /", async (t) => {
  const config = configOf(await loadText("services:\n  web: {command: [/w], user: 4321}\n", { passwdFile: join(FIXTURES, "no-passwd") }));
  t.same(config.services[0]?.user, { name: "4321", uid: 4321, gid: 0, groups: [0], home: "/" });
});

t.test("switching users needs root", async (t) => {
  const text = "services:\n  web: {command: [/w], user: confluence}\n  same: {command: [/s], user: app}\n  grp: {command: [/g], user: app, group: docker}\n";
  t.same(errorsOf(await loadText(text, { isRoot: false, ownUid: 1000, ownGid: 1000 })), [
    'services.web.user: switching to user "confluence" needs root (boxinit runs as uid 1000)',
    'services.grp.group: switching to group "docker" needs root (boxinit runs as gid 1000)',
  ]);
  t.ok((await loadText(text, { isRoot: true, ownUid: 0, ownGid: 0 })).ok, "root may switch to anyone");
});

t.test("dependency cycles and unknown services in after:", async (t) => {
  t.same(errorsOf(await load("bad-cycle.yaml")), [
    'services.c.after: no such service "ghost"',
    "services: dependency cycle: a -> b -> a",
    "services: dependency cycle: c -> c",
  ]);
});

t.test("bad signal names", async (t) => {
  t.same(errorsOf(await load("bad-signal.yaml")), [
    'services.web.stop_signal: expected a signal name such as TERM or SIGINT, got "SIGFOO"',
    'services.worker.stop_signal: expected a signal that ends a process (STOP only pauses it), got "STOP"',
    'services.other.stop_signal: expected a signal name such as TERM or SIGINT, got "99"',
  ]);
  const config = configOf(await loadText("services:\n  a: {command: [/a], stop_signal: SIGHUP}\n  b: {command: [/b], stop_signal: kill}\n  c: {command: [/c], stop_signal: 10}\n"));
  t.same(config.services.map((service) => service.stopSignal), [1, 9, 10]);
});

t.test("several problems at once, a bad job among them", async (t) => {
  t.same(errorsOf(await load("bad-many.yaml")), [
    'grace: expected a duration such as 250ms, 9s, 5m, got "soon"',
    'backoff.watch: expected inotify|poll, got "fanotify"',
    "services.web.command: expected a command (a list of strings, or a string for sh -c), got nothing",
    'services.web.cwd: expected an absolute path, got "srv"',
    'services.web.restart: expected no|on-failure|always, got "sometimes"',
    "services.web.pidfile: expected an absolute path, got nothing",
    "services.web.warmup: expected http or command, got both",
    'services["Bad Name"]: expected a service name of letters, digits, _ . - (at most 63, starting with a letter or digit), got "Bad Name"',
    'services["Bad Name"].command: expected a command (a list of strings, or a string for sh -c), got ""',
    'jobs.reindex.timeout: expected a duration such as 250ms, 9s, 5m, got "forever"',
    'jobs.reindex.schedule: expected a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), got "0 3 * *"',
  ]);
});

t.test("YAML syntax errors carry file:line:col", async (t) => {
  const file = join(FIXTURES, "bad-syntax.yaml");
  t.same(errorsOf(await load("bad-syntax.yaml")), [`${file}:4:3: Flow sequence in block collection must be sufficiently indented and end with a ]`]);
  const result = await loadText("grace: 1s\ngrace: 2s\n");
  t.match(errorsOf(result), [/boxinit-\d+\.yaml:2:1: Map keys must be unique$/]);
  t.match(errorsOf(await loadText("- just\n- a list\n")), [/boxinit-\d+\.yaml: expected a map of settings, got a list$/]);
});

t.test("critical: the only service by default, none of several unless marked", async (t) => {
  const one = configOf(await loadText("services:\n  app: {command: /app}\n"));
  t.equal(one.services[0]?.critical, true);
  const notCritical = configOf(await loadText("services:\n  app: {command: /app, critical: false}\n"));
  t.equal(notCritical.services[0]?.critical, false);
  const two = configOf(await loadText("services:\n  a: {command: /a}\n  b: {command: /b, critical: true}\n"));
  t.same(two.services.map((service) => service.critical), [false, true]);
});

t.test("restart: no is the word no (and false is taken as no)", async (t) => {
  const config = configOf(await loadText("services:\n  a: {command: /a, restart: no}\n  b: {command: /b, restart: false}\n  c: {command: /c, restart: 'on-failure'}\n"));
  t.same(config.services.map((service) => service.restart), ["no", "no", "on-failure"]);
});

t.test("start order keeps file order among independent services", async (t) => {
  const text = "services:\n  web: {command: /w, after: [db, cache]}\n  cache: {command: /c}\n  log: {command: /l}\n  db: {command: /d, after: log}\n";
  t.same(configOf(await loadText(text)).services.map((service) => service.name), ["cache", "log", "db", "web"]);
});

t.test("warm-up variants", async (t) => {
  const cases: Array<[string, string[]]> = [
    ["{}", ["services.a.warmup: expected http or command, got neither"]],
    ["", ["services.a.warmup: expected a map with http or command, got nothing"]],
    ["{http: 'https://x/'}", ['services.a.warmup.http: expected an http:// URL, got "https://x/"']],
    ["{http: 'not a url'}", ['services.a.warmup.http: expected an http:// URL, got "not a url"']],
    ["{http: 'http://x/', expect: 3xx}", ['services.a.warmup.expect: expected any|2xx, got "3xx"']],
    ["{command: /bin/true, expect: 2xx}", ["services.a.warmup.expect: only with http, not with command"]],
    ["{command: [], on_timeout: retry}", [
      "services.a.warmup.command: expected a command (a list of strings, or a string for sh -c), got a list",
      'services.a.warmup.on_timeout: expected fail|continue, got "retry"',
    ]],
    ["{command: [/x], interval: 0s}", ['services.a.warmup.interval: expected a duration above 0, got "0s"']],
  ];
  for (const [warmup, errors] of cases) {
    t.same(errorsOf(await loadText(`services:\n  a:\n    command: /a\n    warmup: ${warmup}\n`)), errors, warmup);
  }
  const command = configOf(await loadText("services:\n  a: {command: /a, warmup: {command: 'test -e /ready'}}\n"));
  t.same(command.services[0]?.warmup?.check, { kind: "command", command: ["/bin/sh", "-c", "test -e /ready"] });
});

t.test("links, env and commands: the finer points", async (t) => {
  t.same(errorsOf(await loadText("links:\n  conf/x: /t\n  /a: rel\n")), [
    'links["conf/x"]: expected an absolute link path, got "conf/x"',
    'links["/a"]: expected an absolute path, got "rel"',
  ]);
  t.same(errorsOf(await loadText("services:\n  a:\n    command: ['', x]\n    env: {'A=B': x, C: [1], D: {e: f}}\n")), [
    'services.a.command[0]: expected a program name, got ""',
    'services.a.env["A=B"]: expected a variable name without = or NUL, got "A=B"',
    "services.a.env.C: expected a string, got a list",
    "services.a.env.D: expected a string, got a map",
  ]);
  t.same(errorsOf(await loadText("services:\n  a: {command: [/a, [x]], restart_delay: 5s, restart_max_delay: 1s}\n")), [
    "services.a.command[1]: expected a string, got a list",
    'services.a.restart_max_delay: expected at least restart_delay, got "1s"',
  ]);
  const raised = configOf(await loadText("services:\n  a: {command: /a, restart_delay: 2m}\n"));
  t.equal(raised.services[0]?.restartMaxDelayMs, 120_000, "the default cap rises to a larger first delay");
  t.same(errorsOf(await loadText("services:\n  a: {command: /a, group: docker}\n")), ["services.a.group: only together with user"]);
  t.same(errorsOf(await loadText("services:\n  a:\n")), ["services.a: expected a map of service settings, got nothing"]);
  const proto = configOf(await loadText("services:\n  a: {command: /a, env: {__proto__: x}}\n"));
  t.equal(proto.services[0]?.env.__proto__, "x", "__proto__ is an ordinary variable name");
});

t.test("a NUL byte in anything that reaches exec or open is refused, with its path (issue 13, bug 6)", async (t) => {
  // YAML's "\0" escape is a NUL byte; exec would have cut the word there.
  const yaml = `state_dir: "/state\\0x"
links: {"/a\\0b": /t}
services:
  a:
    command: [sh, -c, 'echo $0:$1', "x\\0y", z]
    user: "ro\\0ot"
    cwd: "/srv\\0"
    env: {"K\\0": v, L: "v\\0w"}
    stop: "kill\\0 1"
    pidfile: "/run/a\\0.pid"
    warmup: {command: [check, "\\0"]}
  b: {command: "echo \\0"}
`;
  t.same(errorsOf(await loadText(yaml)), [
    'state_dir: expected text without NUL bytes (a NUL byte would cut it short), got "/state\\u0000x"',
    'links["/a\\u0000b"]: expected text without NUL bytes (a NUL byte would cut it short), got "/a\\u0000b"',
    'services.a.command[3]: expected text without NUL bytes (a NUL byte would cut it short), got "x\\u0000y"',
    'services.a.user: expected text without NUL bytes (a NUL byte would cut it short), got "ro\\u0000ot"',
    'services.a.cwd: expected text without NUL bytes (a NUL byte would cut it short), got "/srv\\u0000"',
    'services.a.env["K\\u0000"]: expected a variable name without = or NUL, got "K\\u0000"',
    'services.a.env.L: expected text without NUL bytes (a NUL byte would cut it short), got "v\\u0000w"',
    'services.a.stop: expected text without NUL bytes (a NUL byte would cut it short), got "kill\\u0000 1"',
    'services.a.pidfile: expected text without NUL bytes (a NUL byte would cut it short), got "/run/a\\u0000.pid"',
    'services.a.warmup.command[1]: expected text without NUL bytes (a NUL byte would cut it short), got "\\u0000"',
    'services.b.command: expected text without NUL bytes (a NUL byte would cut it short), got "echo \\u0000"',
  ]);
});

t.test("warnings do not stop the load", async (t) => {
  const result = await loadText("services:\n  a: {command: /a, pidfile_timeout: 5s}\nstate_dir: !!str /docker\nheartbeat: !!int 5\n");
  t.ok(!result.ok, "heartbeat still has to be a duration");
  const ok = await loadText("services:\n  a: {command: /a, pidfile_timeout: 5s}\n");
  t.same(ok.ok && ok.warnings, ["services.a.pidfile_timeout: ignored without pidfile"]);
  const tagged = await loadText("grace: !!int 5s\n");
  t.match(tagged.ok && tagged.warnings, [/boxinit-\d+\.yaml:1:8: Unresolved tag: tag:yaml.org,2002:int$/]);
});

t.test("what the config file itself can be: not a FIFO, not huge, UTF-8; no state dir or link under /proc or /sys", async (t) => {
  const dir = t.testdir({ "latin1.yaml": Buffer.from("services:\n  web: {command: [/opt/caf\xe9/run]}\n", "latin1"), "big.yaml": `# ${"x".repeat(1024 * 1024)}\n` });
  const { execFileSync } = await import("node:child_process");
  execFileSync("mkfifo", [join(dir, "fifo.yaml")]);
  t.same(errorsOf(await loadConfig({ path: join(dir, "fifo.yaml"), env: {} })), [`${join(dir, "fifo.yaml")}: cannot read the config file: not a regular file`]);
  t.same(errorsOf(await loadConfig({ path: join(dir, "big.yaml"), env: {} })), [`${join(dir, "big.yaml")}: the config file is larger than 1 MiB`]);
  t.same(errorsOf(await loadConfig({ path: join(dir, "latin1.yaml"), env: {} })), [`${join(dir, "latin1.yaml")}: not valid UTF-8 text (save the config as UTF-8)`]);
  t.same(errorsOf(await loadText("state_dir: /proc/box\nlinks:\n  /sys/x: /docker/x\n")), [
    'state_dir: expected a path outside /proc and /sys, got "/proc/box"',
    'links["/sys/x"]: expected a path outside /proc and /sys, got "/sys/x"',
  ]);
  t.same(errorsOf(await loadText("", { overrides: { stateDir: "/proc" } })), ['--state-dir: expected a path outside /proc and /sys, got "/proc"']);
});

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import t from "tap";
import { loadBook, readBook } from "../../src/host/book.ts";
import type { Book, BookResult } from "../../src/host/book-types.ts";
import { parseYamlText } from "../../src/config/yaml-text.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/books");
const CONFLUENCE_BOOK = join(import.meta.dirname, "../../images/confluence/confluence.book.yaml");

/** The book, or a throw that shows the unexpected errors in the test output. */
const bookOf = (result: BookResult): Book => {
  if (!result.ok) throw new Error(`unexpected errors:\n${result.errors.join("\n")}`);
  return result.book;
};

const errorsOf = (result: BookResult): string[] => (result.ok ? [] : result.errors);
const warningsOf = (result: BookResult): string[] => (result.ok ? result.warnings : []);

/** Load a fixture; its messages are compared without the directory, which is the same for all. */
const loadFixture = async (file: string): Promise<BookResult> => await loadBook(join(FIXTURES, file));

/** The messages a fixture must give, each prefixed with its path as loadBook names it. */
const inFixture = (file: string, messages: string[]): string[] => messages.map((message) => `${join(FIXTURES, file)}: ${message}`);

const FILE = "t.book.yaml";

/** readBook on a few lines of YAML, parsed as loadBook parses a file. */
const readText = async (text: string): Promise<BookResult> => {
  const parsed = await parseYamlText(text, FILE);
  if (!parsed.ok) throw new Error(`unexpected YAML errors:\n${parsed.errors.join("\n")}`);
  return readBook(parsed.value, FILE);
};

/** The messages of a book of YAML text, without the `t.book.yaml: ` every one starts with. */
const errorsOfText = async (text: string): Promise<string[]> =>
  errorsOf(await readText(text)).map((message) => (message.startsWith(`${FILE}: `) ? message.slice(FILE.length + 2) : `NO FILE PREFIX: ${message}`));

/** A valid book around the lines under test: the state directory is mapped. */
const withHome = (lines: string): string => `name: app\nhome: /srv/app\n${lines}`;

t.test("the shipped confluence book loads, with no warnings", async (t) => {
  const result = await loadBook(CONFLUENCE_BOOK);
  t.same(warningsOf(result), []);
  t.strictSame({ ...bookOf(result) }, {
    file: CONFLUENCE_BOOK,
    name: "confluence",
    image: "boxinit/confluence",
    entrypoint: ["/sbin/boxinit"],
    command: [],
    ports: [{ src: 8090, dst: 8090, protocol: "tcp" }],
    maps: [
      { src: "/home/ubuntu/confluence", dst: "/docker", isReadOnly: false },
      { src: "/home/ubuntu/confluence-data", dst: "/var/atlassian/application-data/confluence", isReadOnly: false },
    ],
    home: "/home/ubuntu/confluence",
    env: {},
    restart: undefined,
    healthcheck: undefined,
    network: undefined,
    hostname: undefined,
  });
});

t.test("every key of a full book arrives where it belongs", async (t) => {
  const file = join(FIXTURES, "full.book.yaml");
  const result = await loadBook(file);
  t.same(warningsOf(result), [], "home with a trailing / is the mapped directory");
  t.strictSame({ ...bookOf(result) }, {
    file,
    name: "wiki.app_2",
    image: "registry.example.com:5000/team/wiki",
    entrypoint: ["/sbin/boxinit", "--verbose"],
    command: ["/bin/sh", "-c", "exec /opt/wiki/start --port 8080"],
    ports: [
      { src: 8080, dst: 8080, protocol: "tcp" },
      { src: 8080, dst: 8080, protocol: "udp" },
      { src: 2222, dst: 22, protocol: "tcp" },
    ],
    maps: [
      { src: "/srv/wiki/state", dst: "/docker", isReadOnly: false },
      { src: "/srv/wiki/conf", dst: "/etc/wiki", isReadOnly: true },
      { src: "/srv/wiki/data", dst: "/var/lib/wiki", isReadOnly: false },
    ],
    home: "/srv/wiki/state/",
    env: { JAVA_OPTS: "-Xmx2g", VERSION: "1.10", DEBUG: "no", EMPTY: "" },
    restart: "on-failure:5",
    healthcheck: {
      test: ["CMD", "/usr/bin/curl", "-sf", "http://localhost:8080/health"],
      intervalMs: 30_000, timeoutMs: 5000, startPeriodMs: 600_000, retries: 3,
    },
    network: "wiki-net",
    hostname: "wiki.example.com",
  });
});

t.test("a minimal book is all defaults, home from the map to /docker", async (t) => {
  const file = join(FIXTURES, "minimal.book.yaml");
  const result = await loadBook(file);
  t.same(warningsOf(result), []);
  t.strictSame({ ...bookOf(result) }, {
    file,
    name: "minimal",
    image: "minimal",
    entrypoint: false,
    command: undefined,
    ports: [],
    maps: [{ src: "/srv/minimal", dst: "/docker", isReadOnly: false }],
    home: "/srv/minimal",
    env: {},
    restart: undefined,
    healthcheck: undefined,
    network: undefined,
    hostname: undefined,
  });
});

t.test("empty values are the defaults where an empty list or map makes sense", async (t) => {
  const book = bookOf(await readText(withHome("port:\nmaps:\nenv:\ncommand: []\n")));
  t.same({ ports: book.ports, maps: book.maps, env: book.env, command: book.command, home: book.home },
    { ports: [], maps: [], env: {}, command: [], home: "/srv/app" });
  // Neither the Engine API nor docker run can say "no arguments" to the image's own entrypoint.
  t.same(warningsOf(await readText(withHome("command: []\n"))),
    [`${FILE}: command: [] with the image's entrypoint runs the image's CMD (Docker cannot pass no arguments); leave command out to say so, or set entrypoint`]);
  t.same(warningsOf(await readText(withHome("entrypoint: [/sbin/boxinit]\ncommand: []\n"))), [], "with an entrypoint argv, [] is no arguments");
  t.equal(bookOf(await readText("name: app\nhome:\nmaps: [{src: /s, dst: /docker}]\n")).home, "/s", "home: with no value takes the default");
});

t.test("bad name pattern", async (t) => {
  t.same(errorsOf(await loadFixture("bad-name.book.yaml")), inFixture("bad-name.book.yaml", [
    'name: expected a name of lowercase letters, digits, _ . - starting with a letter or digit (at most 52), got "My App"',
  ]));
  const nameHint = "expected a name of lowercase letters, digits, _ . - starting with a letter or digit (at most 52)";
  t.equal(bookOf(await readText(`name: ${"a".repeat(52)}\nhome: /srv/app\n`)).name.length, 52, "52 is allowed: NAME-production is one DNS label");
  t.same(await errorsOfText(`name: ${"a".repeat(53)}\nhome: /srv/app\n`), [`name: ${nameHint}, got "${"a".repeat(53)}"`]);
  t.same(await errorsOfText("home: /srv/app\n"), [`name: ${nameHint}, got nothing`], "name is required");
  t.same(await errorsOfText("name: [a]\nhome: /srv/app\n"), [`name: ${nameHint}, got a list`]);
});

t.test("port out of range, not a number, not a map", async (t) => {
  t.same(errorsOf(await loadFixture("bad-port.book.yaml")), inFixture("bad-port.book.yaml", [
    'port[0].src: expected a port number 1-65535, got "70000"',
    'port[1].src: expected a port number 1-65535, got "http"',
    'port[1].dst: expected a port number 1-65535, got "0"',
    'port[2].src: expected a port number 1-65535, got "+80"',
    'port[2].dst: expected a port number 1-65535, got "8.5"',
    'port[3].src: expected a port number 1-65535, got "010"',
    'port[3].protocol: expected tcp|udp, got "sctp"',
    'port[4]: expected a map with src and dst, got "8080:80"',
    "port[5].src: expected a port number 1-65535, got nothing",
  ]));
  const book = bookOf(await readText(withHome("port: [{src: 1, dst: 65535, protocol: udp}]\n")));
  t.same(book.ports, [{ src: 1, dst: 65535, protocol: "udp" }], "both ends of the range");
});

t.test("relative paths, a colon, a mount on /, a bad read_only", async (t) => {
  t.same(errorsOf(await loadFixture("bad-paths.book.yaml")), inFixture("bad-paths.book.yaml", [
    'maps[0].src: expected an absolute path, got "srv/state"',
    'maps[1].dst: expected an absolute path, got "data"',
    'maps[2].src: expected an absolute path without ":", got "/srv/a:b"',
    'maps[3].dst: expected an absolute path other than "/", got "/"',
    'maps[4].read_only: expected true|false, got "yes"',
    'home: expected an absolute path, got "srv/app"',
  ]));
  t.same(await errorsOfText(withHome("maps: [{src: /a}, {dst: /b}, ~]\n")), [
    "maps[0].dst: expected an absolute path, got nothing",
    "maps[1].src: expected an absolute path, got nothing",
    "maps[2]: expected a map with src and dst, got nothing",
  ]);
});

t.test("unknown keys, at the top and in port and maps entries, with did-you-mean", async (t) => {
  t.same(errorsOf(await loadFixture("bad-unknown-keys.book.yaml")), inFixture("bad-unknown-keys.book.yaml", [
    'Image: unknown key (did you mean "image"?)',
    'ports: unknown key (did you mean "port"?)',
    "colour: unknown key",
    'port[0].dts: unknown key (did you mean "dst"?)',
    'port[0].protcol: unknown key (did you mean "protocol"?)',
    "port[0].dst: expected a port number 1-65535, got nothing",
    'maps[0].readonly: unknown key (did you mean "read_only"?)',
  ]));
});

t.test("image: a repository; a tag or digest is refused with its own message", async (t) => {
  const tagHint = "expected a repository without a tag (boxinit manages :latest, :run and :previous)";
  t.same(errorsOf(await loadFixture("bad-image-tag.book.yaml")), inFixture("bad-image-tag.book.yaml", [
    `image: ${tagHint}, got "boxinit/confluence:7.19"`,
  ]));
  for (const image of ["localhost:5000/app", "registry.example.com/a/b-c", "my_team/app__x", "a.b/c--d", "Registry.Example.com/app"]) {
    t.equal(bookOf(await readText(withHome(`image: ${image}\n`))).image, image, `${image} is a repository`);
  }
  t.same(await errorsOfText(withHome("image: localhost:5000\n")), [`image: ${tagHint}, got "localhost:5000"`], "no slash: the colon is a tag");
  t.same(await errorsOfText(withHome("image: 'app@sha256:0123'\n")), [`image: ${tagHint}, got "app@sha256:0123"`]);
  const repositoryHint = "expected a Docker repository such as boxinit/confluence or registry.example.com:5000/team/app";
  t.same(await errorsOfText(withHome("image: Team/App\n")), [`image: ${repositoryHint}, got "Team/App"`]);
  t.same(await errorsOfText(withHome("image: app/\n")), [`image: ${repositoryHint}, got "app/"`]);
  t.same(await errorsOfText("name: app.\nhome: /srv/app\n"), [
    `image: ${repositoryHint} (the default, the name "app.", is not one), got nothing`,
  ], "a name that is no repository needs an image");
  t.equal(bookOf(await readText("name: app.\nimage: app\nhome: /srv/app\n")).image, "app");
});

t.test("entrypoint: true, false or an argv; true needs a command", async (t) => {
  t.same(errorsOf(await loadFixture("bad-entrypoint.book.yaml")), inFixture("bad-entrypoint.book.yaml", [
    "command: expected the command that replaces the entrypoint (entrypoint is true), got nothing",
  ]));
  t.same(await errorsOfText(withHome("entrypoint: true\ncommand: []\n")), [
    "command: expected the command that replaces the entrypoint (entrypoint is true), got an empty list",
  ]);
  const replaced = bookOf(await readText(withHome("entrypoint: true\ncommand: [/start, -x]\n")));
  t.same([replaced.entrypoint, replaced.command], [true, ["/start", "-x"]]);
  const shell = bookOf(await readText(withHome("entrypoint: false\ncommand: run it\n")));
  t.same([shell.entrypoint, shell.command], [false, ["/bin/sh", "-c", "run it"]]);
  const entrypointHint = "expected true, false, or a list of strings (the ENTRYPOINT argv)";
  t.same(await errorsOfText(withHome("entrypoint: []\n")), [`entrypoint: ${entrypointHint}, got a list`]);
  t.same(await errorsOfText(withHome("entrypoint: /bin/start\n")), [`entrypoint: ${entrypointHint}, got "/bin/start"`]);
  t.same(await errorsOfText(withHome("entrypoint:\n")), [`entrypoint: ${entrypointHint}, got nothing`]);
  t.same(await errorsOfText(withHome("entrypoint: ['', x]\ncommand: [a, [b]]\n")), [
    'entrypoint[0]: expected a program name, got ""',
    "command[1]: expected a string, got a list",
  ]);
});

t.test("a host port is published once per protocol", async (t) => {
  t.same(errorsOf(await loadFixture("bad-duplicate-port.book.yaml")), inFixture("bad-duplicate-port.book.yaml", [
    'port[1].src: expected a host port not already published by port[0], got "8090"',
  ]));
});

t.test("a container path is mapped once (a trailing / is the same path)", async (t) => {
  t.same(errorsOf(await loadFixture("bad-duplicate-dst.book.yaml")), inFixture("bad-duplicate-dst.book.yaml", [
    'maps[1].dst: expected a container path not already mapped by maps[0], got "/docker/"',
  ]));
});

t.test("env: shell variable names, string values", async (t) => {
  const nameHint = "expected a variable name of letters, digits and _, not starting with a digit";
  t.same(errorsOf(await loadFixture("bad-env.book.yaml")), inFixture("bad-env.book.yaml", [
    `env.1ST: ${nameHint}, got "1ST"`,
    `env.A-B: ${nameHint}, got "A-B"`,
    `env["A=B"]: ${nameHint}, got "A=B"`,
    "env.LIST: expected a string, got a list",
    "env.MAP: expected a string, got a map",
  ]));
  const book = bookOf(await readText(withHome("env: {_X1: a, __proto__: b}\n")));
  t.equal(book.env.__proto__, "b", "__proto__ is an ordinary variable name");
  t.same(Object.keys(book.env), ["_X1", "__proto__"]);
});

t.test("restart: Docker's policies as written", async (t) => {
  t.same(errorsOf(await loadFixture("bad-restart.book.yaml")), inFixture("bad-restart.book.yaml", [
    'restart: expected no, always, unless-stopped, on-failure or on-failure:N, got "sometimes"',
  ]));
  for (const restart of ["no", "always", "unless-stopped", "on-failure", "on-failure:0", "on-failure:123456789"]) {
    t.equal(bookOf(await readText(withHome(`restart: ${restart}\n`))).restart, restart);
  }
  for (const restart of ["on-failure:", "on-failure:1234567890", "false", "On-Failure"]) {
    t.same(await errorsOfText(withHome(`restart: '${restart}'\n`)), [
      `restart: expected no, always, unless-stopped, on-failure or on-failure:N, got "${restart}"`,
    ]);
  }
});

t.test("healthcheck: none, false, or a map with test", async (t) => {
  t.same(errorsOf(await loadFixture("bad-healthcheck.book.yaml")), inFixture("bad-healthcheck.book.yaml", [
    "healthcheck.command: unknown key",
    "healthcheck.test: expected a command (a list of strings, or a string for sh -c), got nothing",
    'healthcheck.interval: expected a duration above 0, got "0s"',
    'healthcheck.timeout: expected a duration such as 250ms, 9s, 5m, got "soon"',
    'healthcheck.retries: expected a whole number 0 or more, got "many"',
  ]));
  t.equal(bookOf(await readText(withHome("healthcheck: none\n"))).healthcheck, "none");
  t.equal(bookOf(await readText(withHome("healthcheck: false\n"))).healthcheck, "none");
  t.same(bookOf(await readText(withHome("healthcheck: {test: 'curl -f localhost || exit 1'}\n"))).healthcheck,
    { test: ["CMD-SHELL", "curl -f localhost || exit 1"] }, "a string runs in the shell");
  t.same(await errorsOfText(withHome("healthcheck: true\n")), ['healthcheck: expected none, false, or a map with test, got "true"']);
  t.same(await errorsOfText(withHome("healthcheck: {test: [], intervall: 5s}\n")), [
    'healthcheck.intervall: unknown key (did you mean "interval"?)',
    "healthcheck.test: expected a command (a list of strings, or a string for sh -c), got a list",
  ]);
});

t.test("home: needed, from the map to /docker by default; a different one is a warning", async (t) => {
  t.same(errorsOf(await loadFixture("bad-no-home.book.yaml")), inFixture("bad-no-home.book.yaml", [
    "home: expected an absolute path (the host side of the state directory), got nothing; or map a host directory to /docker",
  ]));
  const result = await readText("name: app\nhome: /a\nmaps: [{src: /b, dst: /docker}]\n");
  t.equal(bookOf(result).home, "/a", "the given home wins");
  t.same(warningsOf(result), [`${FILE}: home: "/a" is not the directory mapped to /docker ("/b"); host status and backoff read /a`]);
  t.same(await errorsOfText("name: app\nmaps: [{src: rel, dst: /docker}]\n"), ['maps[0].src: expected an absolute path, got "rel"'],
    "a map to /docker with a bad src is reported once, not again as a missing home");
});

t.test("network and hostname", async (t) => {
  const book = bookOf(await readText(withHome("network: none\nhostname: a-1.b\n")));
  t.same([book.network, book.hostname], ["none", "a-1.b"]);
  const host = await readText(withHome("network: host\nport: [{src: 80, dst: 80}]\n"));
  t.same(warningsOf(host), [`${FILE}: port: ignored with network host (the container uses the host's ports directly)`]);
  t.same(warningsOf(await readText(withHome("network: host\n"))), [], "no ports, no warning");
  const label = "a".repeat(63);
  t.equal(bookOf(await readText(withHome(`hostname: ${label}\n`))).hostname, label, "a label of 63");
  const longest = `${label}.${label}.${label}.${"a".repeat(61)}`;
  t.equal(bookOf(await readText(withHome(`hostname: ${longest}\n`))).hostname?.length, 253, "253 in all");
  const hostnameHint = "expected a hostname of letters, digits and -, in labels of at most 63 joined by . (at most 253)";
  for (const hostname of [`${label}a`, `${longest}a`, "a_b", "a.", "-a"]) {
    t.same(await errorsOfText(withHome(`hostname: ${hostname}\n`)), [`hostname: ${hostnameHint}, got "${hostname}"`]);
  }
  t.same(await errorsOfText(withHome("network: ''\n")), ['network: expected a Docker network name (none, host, bridge or your own), got ""']);
});

t.test("several problems in one book, all reported at once", async (t) => {
  t.same(errorsOf(await loadFixture("bad-many.book.yaml")), inFixture("bad-many.book.yaml", [
    'name: expected a name of lowercase letters, digits, _ . - starting with a letter or digit (at most 52), got "-app"',
    'image: expected a Docker repository such as boxinit/confluence or registry.example.com:5000/team/app, got "App"',
    'entrypoint: expected true, false, or a list of strings (the ENTRYPOINT argv), got "/bin/start"',
    "command: expected a command (a list of strings, or a string for sh -c), got a map",
    'port: expected a list of {src, dst} maps, got "8080"',
    'maps: expected a list of {src, dst} maps, got "/srv"',
    "home: expected an absolute path (the host side of the state directory), got nothing; or map a host directory to /docker",
    "env: expected a map of variable names to values, got a list",
    'restart: expected no, always, unless-stopped, on-failure or on-failure:N, got "on-failure:-1"',
    'healthcheck: expected none, false, or a map with test, got "always"',
    'network: expected a Docker network name (none, host, bridge or your own), got "my net"',
    'hostname: expected a hostname of letters, digits and -, in labels of at most 63 joined by . (at most 253), got "-bad-"',
  ]));
});

t.test("the top level must be a map", async (t) => {
  t.same(errorsOf(await loadFixture("bad-not-map.book.yaml")), inFixture("bad-not-map.book.yaml", ["expected a map of book settings, got a list"]));
  t.same(errorsOf(await loadFixture("empty.book.yaml")), inFixture("empty.book.yaml", ["expected a map of book settings, got nothing"]));
  t.same(errorsOf(readBook("name: app", "x.book.yaml")), ['x.book.yaml: expected a map of book settings, got "name: app"']);
});

t.test("YAML syntax errors carry file:line:col; YAML warnings are kept", async (t) => {
  const file = join(FIXTURES, "bad-syntax.book.yaml");
  t.same(errorsOf(await loadFixture("bad-syntax.book.yaml")), [`${file}:4:1: Flow map in block collection must be sufficiently indented and end with a }`]);
  const dir = t.testdir({
    "bad-tagged.book.yaml": "name: app\nhome: /srv/app\nrestart: !!int 5\n",
    "tagged.book.yaml": "name: app\nhome: /srv/app\nnetwork: !!int 5\n",
  });
  t.same(errorsOf(await loadBook(join(dir, "bad-tagged.book.yaml"))), [
    `${join(dir, "bad-tagged.book.yaml")}: restart: expected no, always, unless-stopped, on-failure or on-failure:N, got "5"`,
  ], "a tag does not change what a key accepts");
  const tagged = await loadBook(join(dir, "tagged.book.yaml"));
  t.equal(bookOf(tagged).network, "5");
  t.same(warningsOf(tagged), [`${join(dir, "tagged.book.yaml")}:3:10: Unresolved tag: tag:yaml.org,2002:int`]);
});

t.test("the file itself: a regular file, at most 1 MiB, UTF-8", async (t) => {
  t.same(errorsOf(await loadFixture("bad-latin1.book.yaml")), inFixture("bad-latin1.book.yaml", ["cannot read the book: not valid UTF-8 text (save it as UTF-8)"]));
  const dir = t.testdir({ "dir.book.yaml": {}, "big.book.yaml": `# ${"x".repeat(1024 * 1024)}\n` });
  t.same(errorsOf(await loadBook(join(dir, "dir.book.yaml"))), [`${join(dir, "dir.book.yaml")}: cannot read the book: not a regular file`]);
  t.same(errorsOf(await loadBook(join(dir, "big.book.yaml"))), [`${join(dir, "big.book.yaml")}: cannot read the book: larger than 1 MiB`]);
  t.same(errorsOf(await loadBook(join(dir, "none.book.yaml"))), [`${join(dir, "none.book.yaml")}: cannot read the book: ENOENT: no such file or directory`]);
  // A FIFO would block an ordinary read for ever; refused at once instead.
  execFileSync("mkfifo", [join(dir, "fifo.book.yaml")]);
  t.same(errorsOf(await loadBook(join(dir, "fifo.book.yaml"))), [`${join(dir, "fifo.book.yaml")}: cannot read the book: not a regular file`]);
});

t.test("stop_timeout: whole seconds, for docker run --stop-timeout", async (t) => {
  t.equal(bookOf(await readText(withHome("stop_timeout: 70s\n"))).stopTimeoutS, 70);
  t.equal(bookOf(await readText(withHome("stop_timeout: 2m\n"))).stopTimeoutS, 120);
  t.equal(bookOf(await readText(withHome(""))).stopTimeoutS, undefined, "absent: Docker's default");
  t.same(await errorsOfText(withHome("stop_timeout: 1500ms\n")), ['stop_timeout: expected whole seconds (docker run --stop-timeout), such as 70s or 2m, got "1500ms"']);
  t.same(await errorsOfText(withHome("stop_timeout: 0s\n")), ['stop_timeout: expected a duration above 0, got "0s"']);
});

t.test("home is where the host tool writes: not under /proc or /sys", async (t) => {
  t.same(await errorsOfText("name: app\nhome: /proc/x\n"), ['home: expected a path outside /proc and /sys, got "/proc/x"']);
  t.same(await errorsOfText("name: app\nmaps: [{src: /sys/x, dst: /docker}]\n"), ['home (from the map to /docker): expected a path outside /proc and /sys, got "/sys/x"']);
});

t.test("no control characters in what reaches a command line (tab and newline are fine)", async (t) => {
  const what = "expected text without control characters (tab and newline are fine)";
  t.same(await errorsOfText(withHome('env: {A: "x\\e]0;pwn\\a", B: "line1\\nline2\\tend"}\ncommand: [run, "a\\x00b"]\n')), [
    `command[1]: ${what}, got "a\\u0000b"`,
    `env.A: ${what}, got "x\\u001b]0;pwn\\u0007"`,
  ]);
  t.same(await errorsOfText(withHome('entrypoint: ["/bin/x\\x7f"]\nhealthcheck: {test: [a, "\\r"]}\n')), [
    `entrypoint[0]: ${what}, got "/bin/x\u007f"`, // JSON leaves DEL as it is
    `healthcheck.test: ${what}, got "\\r"`,
  ]);
});

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import t from "tap";
import { loadBook } from "../../src/host/book.ts";
import type { Book } from "../../src/host/book-types.ts";
import {
  BOOK_LABEL, containerName, createOptions, dockerRunArgv, dockerRunLine, imageRef, processArgv, shellQuote, TAGS,
} from "../../src/host/container-spec.ts";

const FULL_BOOK = join(import.meta.dirname, "../fixtures/books/full.book.yaml");
const CONFLUENCE_BOOK = join(import.meta.dirname, "../../images/confluence/confluence.book.yaml");

/** A valid book with every optional setting at its default; `over` sets the ones under test. */
const bookWith = (over: Partial<Book> = {}): Book => ({
  file: "t.book.yaml", name: "app", image: "team/app", entrypoint: false, command: undefined,
  ports: [], maps: [], home: "/srv/app", env: {}, restart: undefined, healthcheck: undefined,
  network: undefined, hostname: undefined, ...over,
});

const loadBookFile = async (file = FULL_BOOK): Promise<Book> => {
  const result = await loadBook(file);
  if (!result.ok) throw new Error(`unexpected errors:\n${result.errors.join("\n")}`);
  return result.book;
};

/** The words /bin/sh makes of `text` after `set --`: what a shell gives a program for that text. */
const shellWords = (text: string): string[] => {
  const output = execFileSync("/bin/sh", ["-c", `set -- ${text}\nprintf '%s\\0' "$@"`], { encoding: "utf8" });
  return output.split("\0").slice(0, -1);
};

// Words a shell would split, expand, glob or choke on.
const NASTY_WORDS = [
  "plain", "two words", "it's", "''", "'", 'say "hi"', "$HOME", "${HOME}", "$(echo pwned)", "`id`", "a\nb", "tab\there",
  "", " ", "héllo wörld", "☃ 😀", "back\\slash", "\\", "*", "?", "[a]", "~", "~root", "#comment", "semi;colon", "a&b|c",
  "<in >out", "{a,b}", "!bang", "-n", "%s", "--", "=", "a=b", "x\u0001y", "trailing\n",
];

t.test("the container and image names follow the seed", async (t) => {
  const book = bookWith({ name: "wiki.app_2", image: "registry.example.com:5000/team/wiki" });
  t.equal(containerName(book), "wiki.app_2-production");
  t.equal(imageRef(book, TAGS.run), "registry.example.com:5000/team/wiki:run");
  t.equal(imageRef(book, TAGS.latest), "registry.example.com:5000/team/wiki:latest");
  t.equal(imageRef(book, TAGS.previous), "registry.example.com:5000/team/wiki:previous");
});

t.test("processArgv: the argv split into ENTRYPOINT and CMD", async (t) => {
  t.strictSame(processArgv(bookWith()), { entrypoint: undefined, cmd: [] }, "entrypoint false, no command: the image's");
  t.strictSame(processArgv(bookWith({ command: ["serve", "--port", "80"] })), { entrypoint: undefined, cmd: ["serve", "--port", "80"] },
    "entrypoint false: the command is the image ENTRYPOINT's arguments");
  t.strictSame(processArgv(bookWith({ entrypoint: true, command: ["/start", "-x", "y"] })), { entrypoint: "/start", cmd: ["-x", "y"] },
    "entrypoint true: the command replaces the ENTRYPOINT");
  t.strictSame(processArgv(bookWith({ entrypoint: true, command: ["/start"] })), { entrypoint: "/start", cmd: [] });
  t.strictSame(processArgv(bookWith({ entrypoint: ["/sbin/boxinit", "--verbose"] })), { entrypoint: "/sbin/boxinit", cmd: ["--verbose"] },
    "an entrypoint argv without command: its first word, then the rest");
  t.strictSame(processArgv(bookWith({ entrypoint: ["/sbin/boxinit", "--verbose"], command: ["/bin/sh", "-c", "exec x"] })),
    { entrypoint: "/sbin/boxinit", cmd: ["--verbose", "/bin/sh", "-c", "exec x"] }, "an entrypoint argv with a command: the command follows it");
  t.strictSame(processArgv(bookWith({ entrypoint: ["/sbin/boxinit"], command: [] })), { entrypoint: "/sbin/boxinit", cmd: [] });
  const book = bookWith({ entrypoint: ["/a", "b"], command: ["c"] });
  processArgv(book);
  t.strictSame([book.entrypoint, book.command], [["/a", "b"], ["c"]], "the book is not changed");
});

t.test("shellQuote: /bin/sh reads every word back as it was", async (t) => {
  t.strictSame(shellWords(NASTY_WORDS.map(shellQuote).join(" ")), NASTY_WORDS, "all at once, in order");
  for (const word of NASTY_WORDS) t.strictSame(shellWords(shellQuote(word)), [word], JSON.stringify(word));
  const printed = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${NASTY_WORDS.map(shellQuote).join(" ")}`], { encoding: "utf8" });
  t.strictSame(printed.split("\0").slice(0, -1), NASTY_WORDS, "as printf's arguments");
});

t.test("shellQuote leaves plain words plain, so the dry run reads like one typed by hand", async (t) => {
  for (const word of ["docker", "--detach", "boxinit.book=app", "/srv/a:/docker:ro", "8080:80/udp", "registry.example.com:5000/team/wiki:run", "a,b", "user@host", "50%", "a+b"]) {
    t.equal(shellQuote(word), word);
  }
  t.equal(shellQuote(""), "''", "an empty word is kept as a word");
  t.equal(shellQuote("two words"), "'two words'");
});

t.test("createOptions of a minimal book: the image's entrypoint and command, nothing else set", async (t) => {
  t.strictSame(createOptions(bookWith()), {
    name: "app-production",
    Image: "team/app:run",
    Env: [],
    Labels: { [BOOK_LABEL]: "app" },
    HostConfig: { Binds: [], PortBindings: {}, RestartPolicy: { Name: "no", MaximumRetryCount: 0 } },
  });
  t.equal(BOOK_LABEL, "boxinit.book");
});

t.test("createOptions: every key of a full book in its Engine API field", async (t) => {
  t.strictSame(createOptions(await loadBookFile()), {
    name: "wiki.app_2-production",
    Image: "registry.example.com:5000/team/wiki:run",
    Entrypoint: ["/sbin/boxinit"],
    Cmd: ["--verbose", "/bin/sh", "-c", "exec /opt/wiki/start --port 8080"],
    Env: ["JAVA_OPTS=-Xmx2g", "VERSION=1.10", "DEBUG=no", "EMPTY="],
    Labels: { "boxinit.book": "wiki.app_2" },
    Hostname: "wiki.example.com",
    ExposedPorts: { "8080/tcp": {}, "8080/udp": {}, "22/tcp": {} },
    Healthcheck: {
      Test: ["CMD-SHELL", "/usr/bin/curl -sf http://localhost:8080/health"],
      Interval: 30_000_000_000, Timeout: 5_000_000_000, StartPeriod: 600_000_000_000, Retries: 3,
    },
    HostConfig: {
      Binds: ["/srv/wiki/state:/docker", "/srv/wiki/conf:/etc/wiki:ro", "/srv/wiki/data:/var/lib/wiki"],
      PortBindings: {
        "8080/tcp": [{ HostIp: "", HostPort: "8080" }],
        "8080/udp": [{ HostIp: "", HostPort: "8080" }],
        "22/tcp": [{ HostIp: "", HostPort: "2222" }],
      },
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 5 },
      NetworkMode: "wiki-net",
    },
  });
});

t.test("createOptions: entrypoint true puts the command's first word in Entrypoint", async (t) => {
  const options = createOptions(bookWith({ entrypoint: true, command: ["/start", "--port", "80"] }));
  t.strictSame([options.Entrypoint, options.Cmd], [["/start"], ["--port", "80"]]);
  const alone = createOptions(bookWith({ entrypoint: true, command: ["/start"] }));
  t.strictSame(alone.Entrypoint, ["/start"]);
  t.notOk("Cmd" in alone, "no Cmd: with an Entrypoint set, the engine adds none of the image's");
  const image = createOptions(bookWith({ command: ["serve"] }));
  t.notOk("Entrypoint" in image, "entrypoint false: the image's ENTRYPOINT");
  t.strictSame(image.Cmd, ["serve"]);
});

t.test("createOptions: ports, udp, and two host ports on one container port", async (t) => {
  const options = createOptions(bookWith({
    ports: [{ src: 8080, dst: 80, protocol: "tcp" }, { src: 53, dst: 53, protocol: "udp" }, { src: 8081, dst: 80, protocol: "tcp" }],
  }));
  t.strictSame(options.ExposedPorts, { "80/tcp": {}, "53/udp": {} });
  t.strictSame((options.HostConfig as Record<string, unknown>).PortBindings, {
    "80/tcp": [{ HostIp: "", HostPort: "8080" }, { HostIp: "", HostPort: "8081" }],
    "53/udp": [{ HostIp: "", HostPort: "53" }],
  });
});

t.test("createOptions: env in the book's order, values verbatim", async (t) => {
  const options = createOptions(bookWith({ env: { ZED: "1", ALPHA: "a=b c", MID: "", QUOTE: `'"$x\n` } }));
  t.strictSame(options.Env, ["ZED=1", "ALPHA=a=b c", "MID=", `QUOTE='"$x\n`]);
});

t.test("createOptions: binds, read-only ones with :ro", async (t) => {
  const options = createOptions(bookWith({
    maps: [{ src: "/srv/state", dst: "/docker", isReadOnly: false }, { src: "/etc/app", dst: "/etc/app", isReadOnly: true }],
  }));
  t.strictSame((options.HostConfig as Record<string, unknown>).Binds, ["/srv/state:/docker", "/etc/app:/etc/app:ro"]);
});

t.test("createOptions: the restart policy as Docker's API spells it", async (t) => {
  const policies: [string | undefined, { Name: string; MaximumRetryCount: number }][] = [
    [undefined, { Name: "no", MaximumRetryCount: 0 }],
    ["no", { Name: "no", MaximumRetryCount: 0 }],
    ["always", { Name: "always", MaximumRetryCount: 0 }],
    ["unless-stopped", { Name: "unless-stopped", MaximumRetryCount: 0 }],
    ["on-failure", { Name: "on-failure", MaximumRetryCount: 0 }],
    ["on-failure:3", { Name: "on-failure", MaximumRetryCount: 3 }],
  ];
  for (const [restart, policy] of policies) {
    t.strictSame((createOptions(bookWith({ restart })).HostConfig as Record<string, unknown>).RestartPolicy, policy, String(restart));
  }
});

t.test("createOptions: health checks", async (t) => {
  t.strictSame(createOptions(bookWith({ healthcheck: "none" })).Healthcheck, { Test: ["NONE"] }, "none switches the image's off");
  const argv = ["CMD", "/bin/check", "it's here", "$HOME", ""];
  const quoted = createOptions(bookWith({ healthcheck: { test: argv } })).Healthcheck as { Test: string[] };
  t.strictSame(Object.keys(quoted), ["Test"], "no durations given, none set: the image's or Docker's apply");
  t.equal(quoted.Test[0], "CMD-SHELL");
  t.equal(quoted.Test.length, 2);
  t.strictSame(shellWords(quoted.Test[1]!), argv.slice(1), "the shell runs exactly the argv");
  t.strictSame(createOptions(bookWith({
    healthcheck: { test: ["CMD-SHELL", "curl -f localhost || exit 1"], intervalMs: 1500, timeoutMs: 250, startPeriodMs: 60_000, retries: 0 },
  })).Healthcheck, {
    Test: ["CMD-SHELL", "curl -f localhost || exit 1"], Interval: 1_500_000_000, Timeout: 250_000_000, StartPeriod: 60_000_000_000, Retries: 0,
  }, "a shell test as written; durations in nanoseconds");
  t.strictSame(createOptions(bookWith({ healthcheck: { test: ["CMD", "true"], timeoutMs: 2000 } })).Healthcheck,
    { Test: ["CMD-SHELL", "true"], Timeout: 2_000_000_000 }, "only the durations given");
});

t.test("createOptions: stop timeout, network, hostname", async (t) => {
  const options = createOptions(bookWith({ stopTimeoutS: 70, network: "none", hostname: "box-1.example.com" }));
  t.equal(options.StopTimeout, 70, "StopTimeout is a container setting, in seconds");
  t.equal(options.Hostname, "box-1.example.com");
  t.equal((options.HostConfig as Record<string, unknown>).NetworkMode, "none");
  t.notOk("StopTimeout" in (options.HostConfig as object));
});

t.test("dockerRunArgv of a minimal book", async (t) => {
  t.strictSame(dockerRunArgv(bookWith()), ["docker", "run", "--detach", "--name", "app-production", "--label", "boxinit.book=app", "team/app:run"]);
  t.equal(dockerRunLine(bookWith()), "docker run --detach --name app-production --label boxinit.book=app team/app:run", "nothing needs quoting");
});

t.test("the dry run of the shipped confluence book", async (t) => {
  t.equal(dockerRunLine(await loadBookFile(CONFLUENCE_BOOK)), "docker run --detach --name confluence-production --label boxinit.book=confluence"
    + " --publish 8090:8090 --volume /home/ubuntu/confluence:/docker --volume /home/ubuntu/confluence-data:/var/atlassian/application-data/confluence"
    + " --entrypoint /sbin/boxinit boxinit/confluence:run");
});

t.test("dockerRunArgv: every key of a full book as a docker run flag", async (t) => {
  t.strictSame(dockerRunArgv(await loadBookFile()), [
    "docker", "run", "--detach", "--name", "wiki.app_2-production", "--label", "boxinit.book=wiki.app_2",
    "--hostname", "wiki.example.com", "--network", "wiki-net", "--restart", "on-failure:5",
    "--publish", "8080:8080", "--publish", "8080:8080/udp", "--publish", "2222:22",
    "--volume", "/srv/wiki/state:/docker", "--volume", "/srv/wiki/conf:/etc/wiki:ro", "--volume", "/srv/wiki/data:/var/lib/wiki",
    "--env", "JAVA_OPTS=-Xmx2g", "--env", "VERSION=1.10", "--env", "DEBUG=no", "--env", "EMPTY=",
    "--health-cmd", "/usr/bin/curl -sf http://localhost:8080/health",
    "--health-interval", "30000ms", "--health-timeout", "5000ms", "--health-start-period", "600000ms", "--health-retries", "3",
    "--entrypoint", "/sbin/boxinit",
    "registry.example.com:5000/team/wiki:run",
    "--verbose", "/bin/sh", "-c", "exec /opt/wiki/start --port 8080",
  ]);
});

t.test("dockerRunArgv: no health check, stop timeout, a command after the image", async (t) => {
  const argv = dockerRunArgv(bookWith({ healthcheck: "none", stopTimeoutS: 70, restart: "no", command: ["-x", "--y"] }));
  t.strictSame(argv, [
    "docker", "run", "--detach", "--name", "app-production", "--label", "boxinit.book=app",
    "--restart", "no", "--stop-timeout", "70", "--no-healthcheck", "team/app:run", "-x", "--y",
  ], "arguments after the image are the command's, even when they look like flags");
});

/**
 * What `docker run` sends for these flags (the docker CLI's own mapping, as
 * far as the dry run uses it): the create body, to compare with createOptions.
 */
const createBodyOfDockerRun = (argv: readonly string[]): Record<string, unknown> => {
  const body: Record<string, unknown> = { Env: [], Labels: {} };
  const host: Record<string, unknown> = { Binds: [], PortBindings: {}, RestartPolicy: { Name: "no", MaximumRetryCount: 0 } };
  const exposed: Record<string, object> = {};
  const health: Record<string, unknown> = {};
  const nsOf = (text: string): number => Number(/^(\d+)ms$/.exec(text)?.[1] ?? Number.NaN) * 1_000_000;
  let index = 2;
  const next = (): string => argv[++index]!;
  for (; argv[index]!.startsWith("--"); index++) {
    const flag = argv[index];
    if (flag === "--detach") continue;
    else if (flag === "--name") body.name = next();
    else if (flag === "--label") {
      const [key = "", ...value] = next().split("=");
      (body.Labels as Record<string, string>)[key] = value.join("=");
    } else if (flag === "--hostname") body.Hostname = next();
    else if (flag === "--network") host.NetworkMode = next();
    else if (flag === "--restart") {
      const [name = "", count] = next().split(":");
      host.RestartPolicy = { Name: name, MaximumRetryCount: count === undefined ? 0 : Number(count) };
    } else if (flag === "--stop-timeout") body.StopTimeout = Number(next());
    else if (flag === "--publish") {
      const [hostPort = "", rest = ""] = next().split(":");
      const key = rest.includes("/") ? rest : `${rest}/tcp`;
      exposed[key] = {};
      ((host.PortBindings as Record<string, unknown[]>)[key] ??= []).push({ HostIp: "", HostPort: hostPort });
    } else if (flag === "--volume") (host.Binds as string[]).push(next());
    else if (flag === "--env") (body.Env as string[]).push(next());
    else if (flag === "--no-healthcheck") health.Test = ["NONE"];
    else if (flag === "--health-cmd") health.Test = ["CMD-SHELL", next()];
    else if (flag === "--health-interval") health.Interval = nsOf(next());
    else if (flag === "--health-timeout") health.Timeout = nsOf(next());
    else if (flag === "--health-start-period") health.StartPeriod = nsOf(next());
    else if (flag === "--health-retries") health.Retries = Number(next());
    else if (flag === "--entrypoint") body.Entrypoint = [next()];
    else throw new Error(`the test does not know ${flag}`);
  }
  body.Image = argv[index];
  const cmd = argv.slice(index + 1);
  if (cmd.length > 0) body.Cmd = cmd;
  if (Object.keys(exposed).length > 0) body.ExposedPorts = exposed;
  if (Object.keys(health).length > 0) body.Healthcheck = health;
  body.HostConfig = host;
  return body;
};

/** Books that between them set every key, to compare the two forms on. */
const variedBooks = async (): Promise<[string, Book][]> => [
  ["minimal", bookWith()],
  ["full fixture", await loadBookFile()],
  ["entrypoint true", bookWith({ entrypoint: true, command: ["/start", "it's", ""] })],
  ["image entrypoint with a command", bookWith({ command: ["--flag", "$x"] })],
  ["health none, stop timeout, host network", bookWith({ healthcheck: "none", stopTimeoutS: 5, network: "host", restart: "always" })],
  ["shell health, two host ports on one", bookWith({
    healthcheck: { test: ["CMD-SHELL", "test -f /ready"], retries: 2 },
    ports: [{ src: 1, dst: 80, protocol: "tcp" }, { src: 2, dst: 80, protocol: "tcp" }, { src: 3, dst: 80, protocol: "udp" }],
  })],
];

t.test("dockerRunArgv says what createOptions creates", async (t) => {
  for (const [label, book] of await variedBooks()) {
    t.strictSame(createBodyOfDockerRun(dockerRunArgv(book)), createOptions(book), label);
  }
});

t.test("dockerRunLine: the shell gives back dockerRunArgv, nasty values included", async (t) => {
  const nasty = bookWith({
    entrypoint: ["/bin/entry point", "$1"],
    command: NASTY_WORDS,
    env: { QUOTES: `it's "quoted"`, DOLLAR: "$HOME and $(id)", NEWLINE: "a\nb", EMPTY: "", UNICODE: "ünï ☃" },
    maps: [{ src: "/srv/with space", dst: "/data dir", isReadOnly: true }],
    healthcheck: { test: ["CMD", "/bin/check", "it's", "a b"], intervalMs: 500 },
    hostname: "h-1",
  });
  for (const [label, book] of [...(await variedBooks()), ["nasty values", nasty] as [string, Book]]) {
    t.strictSame(shellWords(dockerRunLine(book)), dockerRunArgv(book), label);
  }
});

import t from "tap";
import { HOST_USAGE, parseHostArgs, type HostArgs } from "../../src/cli/host.ts";
import { HOST_EXIT } from "../../src/host/errors.ts";

/** The parsed arguments, flags as a sorted list; a usage error or "help" as it came. */
const parsed = (argv: string[]): unknown => {
  const result = parseHostArgs(argv);
  if (typeof result === "string") return result;
  return { ...result, flags: [...result.flags].sort() };
};

const args = (verb: HostArgs["verb"], bookPath: string, flags: string[] = [], extra: Partial<HostArgs> = {}): unknown =>
  ({ verb, bookPath, flags, ...extra });

t.test("help: no arguments, -h or --help anywhere", async (t) => {
  for (const argv of [[], ["-h"], ["--help"], ["run", "-h"], ["run", "app.book.yaml", "--help"], ["nonsense", "--help"]]) {
    t.equal(parseHostArgs(argv), "help", JSON.stringify(argv));
  }
});

t.test("unknown verbs", async (t) => {
  const expected = "expected run, promote, cron, status, backoff, kube, logs";
  t.equal(parseHostArgs(["start", "app.book.yaml"]), `unknown verb "start": ${expected}`);
  t.equal(parseHostArgs(["RUN", "app.book.yaml"]), `unknown verb "RUN": ${expected}`);
  t.equal(parseHostArgs(["--dry-run", "run"]), `unknown verb "--dry-run": ${expected}`, "the verb comes first");
  t.equal(parseHostArgs(["app.book.yaml"]), `unknown verb "app.book.yaml": ${expected}`);
  for (const verb of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    t.equal(parseHostArgs([verb, "app.book.yaml"]), `unknown verb ${JSON.stringify(verb)}: ${expected}`, `${verb} is no verb`);
  }
});

t.test("each verb with its book and its own flag", async (t) => {
  t.same(parsed(["run", "app.book.yaml"]), args("run", "app.book.yaml"));
  t.same(parsed(["run", "app.book.yaml", "--dry-run"]), args("run", "app.book.yaml", ["--dry-run"]));
  t.same(parsed(["run", "--dry-run", "app.book.yaml"]), args("run", "app.book.yaml", ["--dry-run"]), "flags before the book");
  t.same(parsed(["promote", "app.book.yaml"]), args("promote", "app.book.yaml"));
  t.same(parsed(["promote", "app.book.yaml", "--rollback"]), args("promote", "app.book.yaml", ["--rollback"]));
  t.same(parsed(["cron", "/etc/boxinit/app.book.yaml", "--run"]), args("cron", "/etc/boxinit/app.book.yaml", ["--run"]));
  t.same(parsed(["cron", "app.book.yaml"]), args("cron", "app.book.yaml"));
  t.same(parsed(["status", "app.book.yaml", "--json"]), args("status", "app.book.yaml", ["--json"]));
  t.same(parsed(["status", "app.book.yaml"]), args("status", "app.book.yaml"));
  t.same(parsed(["backoff", "app.book.yaml", "on"]), args("backoff", "app.book.yaml", [], { word: "on" }));
  t.same(parsed(["backoff", "app.book.yaml", "off"]), args("backoff", "app.book.yaml", [], { word: "off" }));
  t.same(parsed(["backoff", "app.book.yaml", "on", "--wait"]), args("backoff", "app.book.yaml", ["--wait"], { word: "on" }));
  t.same(parsed(["backoff", "--wait", "app.book.yaml", "on"]), args("backoff", "app.book.yaml", ["--wait"], { word: "on" }));
  t.same(parsed(["run", "-"]), args("run", "-"), "- is a path, not a flag");
});

t.test("no word and no timeout where they do not belong", async (t) => {
  const result = parseHostArgs(["run", "app.book.yaml"]) as HostArgs;
  t.notOk("word" in result, "only backoff has on|off");
  t.notOk("timeoutMs" in result, "no --timeout, no timeoutMs: the default applies");
  t.notOk("timeoutMs" in (parseHostArgs(["backoff", "app.book.yaml", "on", "--wait"]) as HostArgs));
});

t.test("another verb's flag, or no verb's, is refused", async (t) => {
  const others: [string, string][] = [
    ["run", "--rollback"], ["run", "--run"], ["run", "--json"], ["run", "--wait"],
    ["promote", "--dry-run"], ["promote", "--run"], ["cron", "--dry-run"], ["cron", "--json"],
    ["status", "--run"], ["status", "--wait"], ["backoff", "--json"], ["backoff", "--dry-run"],
    ["run", "--dry-run=yes"], ["run", "-n"], ["cron", "--"], ["status", "--JSON"],
  ];
  for (const [verb, flag] of others) {
    t.equal(parseHostArgs([verb, "app.book.yaml", ...(verb === "backoff" ? ["on"] : []), flag]), `${verb}: unknown option ${JSON.stringify(flag)}`);
  }
});

t.test("a book is required", async (t) => {
  for (const verb of ["run", "promote", "cron", "status", "backoff"]) {
    t.equal(parseHostArgs([verb]), `${verb}: expected a book file (YAML)`, verb);
  }
  t.equal(parseHostArgs(["run", "--dry-run"]), "run: expected a book file (YAML)", "flags are no book");
});

t.test("extra arguments are refused", async (t) => {
  t.equal(parseHostArgs(["run", "a.book.yaml", "b.book.yaml"]), 'run: unexpected argument "b.book.yaml"');
  t.equal(parseHostArgs(["cron", "a.book.yaml", "--run", "now"]), 'cron: unexpected argument "now"');
  t.equal(parseHostArgs(["status", "a.book.yaml", "on"]), 'status: unexpected argument "on"');
  t.equal(parseHostArgs(["backoff", "a.book.yaml", "on", "off"]), 'backoff: unexpected argument "off"');
});

t.test("backoff needs on or off after the book", async (t) => {
  t.equal(parseHostArgs(["backoff", "a.book.yaml"]), 'backoff: expected on or off after the book, got "nothing"');
  t.equal(parseHostArgs(["backoff", "a.book.yaml", "--wait"]), 'backoff: expected on or off after the book, got "nothing"');
  for (const word of ["true", "ON", "yes", "1", ""]) {
    t.equal(parseHostArgs(["backoff", "a.book.yaml", word]), `backoff: expected on or off after the book, got ${JSON.stringify(word)}`);
  }
  t.equal(parseHostArgs(["backoff", "on", "a.book.yaml"]), 'backoff: expected on or off after the book, got "a.book.yaml"', "the book comes first");
});

t.test("--timeout D and --timeout=D, with --wait", async (t) => {
  t.same(parsed(["backoff", "a.book.yaml", "on", "--wait", "--timeout", "90s"]), args("backoff", "a.book.yaml", ["--wait"], { word: "on", timeoutMs: 90_000 }));
  t.same(parsed(["backoff", "a.book.yaml", "on", "--wait", "--timeout=5m"]), args("backoff", "a.book.yaml", ["--wait"], { word: "on", timeoutMs: 300_000 }));
  t.same(parsed(["backoff", "--timeout", "1m30s", "a.book.yaml", "--wait", "on"]), args("backoff", "a.book.yaml", ["--wait"], { word: "on", timeoutMs: 90_000 }),
    "anywhere; its value is not the book");
  t.same(parsed(["backoff", "a.book.yaml", "off", "--wait", "--timeout", "250ms"]), args("backoff", "a.book.yaml", ["--wait"], { word: "off", timeoutMs: 250 }));
  t.equal((parseHostArgs(["backoff", "a.book.yaml", "on", "--wait", "--timeout", "1s", "--timeout=2s"]) as HostArgs).timeoutMs, 2000, "the last one wins");
});

t.test("--timeout without --wait is refused", async (t) => {
  t.equal(parseHostArgs(["backoff", "a.book.yaml", "on", "--timeout", "90s"]), "backoff: --timeout only goes with --wait");
  t.equal(parseHostArgs(["backoff", "a.book.yaml", "on", "--timeout=90s"]), "backoff: --timeout only goes with --wait");
});

t.test("--timeout is backoff's only", async (t) => {
  for (const verb of ["run", "promote", "cron", "status"]) {
    t.equal(parseHostArgs([verb, "a.book.yaml", "--timeout", "90s"]), `${verb}: unknown option "--timeout"`);
    t.equal(parseHostArgs([verb, "a.book.yaml", "--timeout=90s"]), `${verb}: unknown option "--timeout=90s"`);
  }
});

t.test("bad durations", async (t) => {
  const hint = "--timeout: expected a duration above 0 such as 90s or 5m, got";
  for (const value of ["90", "0s", "0ms", "soon", "-5s", "5 s", "", "1w"]) {
    t.equal(parseHostArgs(["backoff", "a.book.yaml", "on", "--wait", "--timeout", value]), `${hint} ${JSON.stringify(value)}`, `--timeout ${JSON.stringify(value)}`);
    t.equal(parseHostArgs(["backoff", "a.book.yaml", "on", "--wait", `--timeout=${value}`]), `${hint} ${JSON.stringify(value)}`, `--timeout=${value}`);
  }
  t.equal(parseHostArgs(["backoff", "a.book.yaml", "on", "--wait", "--timeout"]), `${hint} "nothing"`, "no value at the end");
  t.equal(parseHostArgs(["backoff", "a.book.yaml", "on", "--timeout", "--wait"]), `${hint} "--wait"`, "the next word is the value, even a flag");
});

t.test("kube BOOK with --out, --image and --config, each as --name VALUE or --name=VALUE", async (t) => {
  t.same(parsed(["kube", "app.book.yaml"]), args("kube", "app.book.yaml"));
  t.same(parsed(["kube", "app.book.yaml", "--out", "manifests"]), args("kube", "app.book.yaml", [], { outDir: "manifests" }));
  t.same(parsed(["kube", "--out=manifests", "app.book.yaml"]), args("kube", "app.book.yaml", [], { outDir: "manifests" }), "anywhere; its value is not the book");
  t.same(parsed(["kube", "app.book.yaml", "--image", "reg.example/app@sha256:00", "--config=box.yaml"]),
    args("kube", "app.book.yaml", [], { imageRef: "reg.example/app@sha256:00", configPath: "box.yaml" }));
  t.same(parsed(["kube", "app.book.yaml", "--out", "a", "--out", "b"]), args("kube", "app.book.yaml", [], { outDir: "b" }), "the last one wins");
});

t.test("kube's options need a value; they are kube's only", async (t) => {
  for (const option of ["--out", "--image", "--config"]) {
    t.equal(parseHostArgs(["kube", "app.book.yaml", option]), `kube: ${option}: expected a value, got nothing`, `${option} at the end`);
    t.equal(parseHostArgs(["kube", "app.book.yaml", `${option}=`]), `kube: ${option}: expected a value, got nothing`, `${option}= empty`);
    for (const verb of ["run", "promote", "cron", "status"]) t.equal(parseHostArgs([verb, "a.book.yaml", option, "x"]), `${verb}: unknown option "${option}"`);
  }
  t.equal(parseHostArgs(["kube", "app.book.yaml", "--dry-run"]), 'kube: unknown option "--dry-run"');
  t.equal(parseHostArgs(["kube", "app.book.yaml", "--timeout", "5s"]), 'kube: unknown option "--timeout"');
  t.equal(parseHostArgs(["kube"]), "kube: expected a book file (YAML)");
  t.equal(parseHostArgs(["kube", "a.book.yaml", "b.book.yaml"]), 'kube: unexpected argument "b.book.yaml"');
  const result = parseHostArgs(["run", "app.book.yaml"]) as HostArgs;
  t.notOk("outDir" in result || "imageRef" in result || "configPath" in result, "none for other verbs");
});

t.test("the usage text states the exit codes HOST_EXIT has", async (t) => {
  const said: [number, string][] = [
    [HOST_EXIT.ok, "ok"], [HOST_EXIT.failed, "failed"], [HOST_EXIT.usage, "usage or bad book"],
    [HOST_EXIT.alreadyRunning, "already running (run)"], [HOST_EXIT.backoff, "backoff engaged (run)"], [HOST_EXIT.timeout, "--wait timed out"],
    [HOST_EXIT.noEngine, "no engine"], [HOST_EXIT.permissionDenied, "permission denied"], [HOST_EXIT.imageNotFound, "image not found"],
    [HOST_EXIT.nameConflict, "name conflict"], [HOST_EXIT.portInUse, "port in use"],
  ];
  const flat = HOST_USAGE.replace(/\s+/g, " ");
  for (const [code, words] of said) t.ok(flat.includes(` ${code} ${words}`), `${code} ${words}`);
});

// The container's Node variables are the command's (issue 13, bug 7): the
// command and services receive each one exactly as the container set it, and
// PID 1 does not act on those it could read. Files Node would read are FIFOs
// without a writer: a boxinit that opened one would hang and fail the test.
import t from "tap";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { BOXINIT, MODES, killAllRuns, missingPrerequisite, runBoxinit, startBoxinit } from "../helpers/boxinit.ts";
import { makeBox } from "../helpers/mini-vm.ts";

t.teardown(killAllRuns);

const mkfifo = (path: string): string => {
  execFileSync("mkfifo", [path]);
  return path;
};

for (const mode of MODES) {
  t.test(`${mode}: Node variables reach the command unchanged and PID 1 leaves them alone`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const dir = t.testdir({ icu: { icudt78l: {} } });
    for (const name of ["cnvalias.icu", "zoneinfo64.res", "supplementalData.res"]) mkfifo(join(dir, "icu/icudt78l", name));
    // NODE_OPTIONS has its own test (hardening.test.ts): tap adds to it in every process it spawns.
    const env: Record<string, string> = {
      NODE_ICU_DATA: join(dir, "icu"),
      OPENSSL_CONF: mkfifo(join(dir, "openssl.cnf")),
      NODE_EXTRA_CA_CERTS: mkfifo(join(dir, "ca.pem")),
      SSL_CERT_FILE: mkfifo(join(dir, "cert.pem")),
      NODE_REDIRECT_WARNINGS: join(dir, "warnings.txt"),
      NODE_REPL_HISTORY: join(dir, "repl-history"),
      NODE_PENDING_DEPRECATION: "1",
      NODE_TLS_REJECT_UNAUTHORIZED: "0",
      NODE_UNIQUE_ID: "7",
      UV_THREADPOOL_SIZE: "64",
      NODE_V8_COVERAGE: "relative-coverage-dir",
    };
    const names = Object.keys(env);
    const script = names.map((name) => `printf '%s=%s\\n' ${name} "$${name}"`).join("; ");
    const result = await runBoxinit(mode, ["--", "sh", "-c", script], { env: { ...env }, cwd: dir, timeoutMs: 30_000 });
    t.equal(result.code, 0, `boxinit ran (no FIFO was opened)\n${result.stderr}`);
    for (const name of names) t.match(result.stdout, `${name}=${env[name]}\n`, `the command got ${name} as the container set it`);
    t.notOk(existsSync(env.NODE_REDIRECT_WARNINGS!), "no warnings file");
    t.notOk(existsSync(env.NODE_REPL_HISTORY!), "no REPL history");
    t.notMatch(result.stderr, /\(node:\d+\)|Warning:|DeprecationWarning/, "nothing from Node on PID 1's stderr");
  });

  t.test(`${mode}: a service's environment holds the Node variables too`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const box = makeBox(t, "services:\n  app: {command: 'printf \"%s|%s\\\\n\" \"$NODE_PATH\" \"$UV_THREADPOOL_SIZE\"'}\n");
    const result = await runBoxinit(mode, box.args, { env: { NODE_PATH: "/opt/app/lib", UV_THREADPOOL_SIZE: "3" }, timeoutMs: 30_000 });
    t.equal(result.code, 0, result.stderr);
    t.match(result.stdout, "/opt/app/lib|3\n");
  });

  // The variables Node acts on before boxinit's first line: boxinit starts
  // afresh without them (pid1/node-env-restart.ts). Each test failed before.
  t.test(`${mode}: NODE_V8_COVERAGE: no coverage file, not even its directory`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const coverage = join(t.testdir({}), "coverage");
    const result = await runBoxinit(mode, ["--", "sh", "-c", 'printf "%s\\n" "$NODE_V8_COVERAGE"'], { env: { NODE_V8_COVERAGE: coverage }, timeoutMs: 30_000 });
    t.equal(result.code, 0, result.stderr);
    t.equal(result.stdout, `${coverage}\n`, "the command got NODE_V8_COVERAGE as the container set it");
    t.notOk(existsSync(coverage), "no coverage directory, no coverage file");
  });

  t.test(`${mode}: NODE_COMPILE_CACHE: nothing left of the directories Node made for boxinit; a directory that was there stays`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const dir = t.testdir({ existing: {} });
    const made = join(dir, "cache", "node");
    const result = await runBoxinit(mode, ["--", "sh", "-c", 'printf "%s\\n" "$NODE_COMPILE_CACHE"'], { env: { NODE_COMPILE_CACHE: made }, timeoutMs: 30_000 });
    t.equal(result.code, 0, result.stderr);
    t.equal(result.stdout, `${made}\n`, "the command got NODE_COMPILE_CACHE as the container set it");
    t.notOk(existsSync(join(dir, "cache")), "the directories Node made (cache/node/v24...) are gone");

    // An existing directory (an image's, an entrypoint's mkdir -p) is not boxinit's to remove.
    const existing = join(dir, "existing");
    const again = await runBoxinit(mode, ["--", "true"], { env: { NODE_COMPILE_CACHE: existing }, timeoutMs: 30_000 });
    t.equal(again.code, 0, again.stderr);
    t.ok(existsSync(existing), "the existing directory stays");
    t.same(readdirSync(existing), [], "and holds nothing of boxinit's (no v24.21.0-x64-* left)");
  });

  t.test(`${mode}: NODE_DEBUG and NODE_DEBUG_NATIVE: no Node debug line on PID 1's stderr`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    // INSPECTOR_PROFILER prints at exit ('EndStartedProfilers'); Node's
    // categories that print before boxinit's first line still do (docs/node-environment.md).
    const env = { NODE_DEBUG: "*", NODE_DEBUG_NATIVE: "INSPECTOR_PROFILER" };
    const result = await runBoxinit(mode, ["--", "sh", "-c", 'printf "%s|%s\\n" "$NODE_DEBUG" "$NODE_DEBUG_NATIVE"'], { env, timeoutMs: 30_000 });
    t.equal(result.code, 0, result.stderr);
    t.equal(result.stdout, "*|INSPECTOR_PROFILER\n", "the command got both as the container set them");
    const foreign = result.stderr.split("\n").filter((line) => line !== "" && !line.startsWith("boxinit: "));
    t.same(foreign, [], "every line on stderr is boxinit's own (no TIMER, NET, ... or EndStartedProfilers)");
  });

  t.test(`${mode}: NODE_CHANNEL_FD naming a fd that is not a socket does not abort boxinit`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    // fd 0 is /dev/null here: Node's IPC set-up on it aborted PID 1 (exit 134) at its first event-loop turn.
    const env = { NODE_CHANNEL_FD: "0", NODE_CHANNEL_SERIALIZATION_MODE: "advanced" };
    const result = await runBoxinit(mode, ["--", "sh", "-c", 'printf "%s|%s\\n" "$NODE_CHANNEL_FD" "$NODE_CHANNEL_SERIALIZATION_MODE"'], { env, timeoutMs: 30_000 });
    t.equal(result.code, 0, `exit 0, not 134\n${result.stderr}`);
    t.equal(result.stdout, "0|advanced\n", "the command got both as the container set them");
  });

  t.test(`${mode}: a real IPC channel (NODE_CHANNEL_FD from a Node parent) reaches the command whole: PID 1 reads none of it`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    // The command, a Node program, answers the parent's first message. The
    // parent sends it at once: a PID 1 that opened the channel would read it first.
    const command = join(t.testdir({ "answer.cjs": ANSWER_PROGRAM }), "answer.cjs");
    const args = ["-q", "--preserve-fds", "1", "--", process.execPath, command];
    const child = spawn(mode === "pid1" ? "unshare" : BOXINIT, mode === "pid1" ? ["--pid", "--fork", "--mount-proc", BOXINIT, ...args] : args, {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, NODE_OPTIONS: undefined },
    });
    t.teardown(() => child.kill("SIGKILL"));
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const replies: unknown[] = [];
    child.on("message", (message) => replies.push(message));
    child.send({ question: "first" });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    t.equal(code, 0, `boxinit exits with the command's 0 (3: the command got nothing)\n${stdout}`);
    t.same(replies, [{ answer: "first" }], "the command got the first message and answered it on the same channel");
  });

  t.test(`${mode}: a fresh start keeps PID 1's name, its preserved fds, and gives no child the carrier variable`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const dir = t.testdir({ "fd3.txt": "from-fd-3\n" });
    // The command prints its parent's comm, what fd 3 holds, and whether it sees BOXINIT_NODE_ENVIRONMENT.
    const script = 'cat /proc/$PPID/comm; cat <&3; printf "carrier=%s|%s\\n" "${BOXINIT_NODE_ENVIRONMENT-unset}" "$NODE_DEBUG"';
    const result = await runBoxinit(mode, ["--preserve-fds", "1", "--", "sh", "-c", script], {
      env: { NODE_DEBUG: "none-such" },
      execThrough: ["sh", "-c", 'exec "$@" 3<"$0"', join(dir, "fd3.txt")],
      timeoutMs: 30_000,
    });
    t.equal(result.code, 0, result.stderr);
    t.equal(result.stdout, "boxinit\nfrom-fd-3\ncarrier=unset|none-such\n");

    // (makeBox rewrites the word B-O-X in a config, hence B[O]X.)
    const box = makeBox(t, "services:\n  app: {command: 'printf \"carriers=%s|%s\\\\n\" \"$(env | grep -c ^B[O]XINIT_NODE_ENVIRONMENT=)\" \"$NODE_DEBUG\"'}\n");
    const service = await runBoxinit(mode, box.args, { env: { NODE_DEBUG: "none-such" }, timeoutMs: 30_000 });
    t.equal(service.code, 0, service.stderr);
    t.equal(service.stdout, "carriers=0|none-such\n", "a service too");
  });

  t.test(`${mode}: side commands and jobs start afresh too (a HEALTHCHECK writes no coverage file)`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const dir = t.testdir({ state: {} });
    const coverage = join(dir, "coverage");
    const env = { NODE_V8_COVERAGE: coverage };
    const job = await runBoxinit(mode, ["--state-dir", join(dir, "state"), "job", "cov", "--", "true"], { env, timeoutMs: 30_000 });
    t.equal(job.code, 0, job.stderr);
    const status = await runBoxinit(mode, ["status", "--state-dir", join(dir, "state")], { env, timeoutMs: 30_000 });
    t.equal(status.code, 0, status.stderr);
    t.notOk(existsSync(coverage), "no coverage file from boxinit job or boxinit status");
  });

  t.test(`${mode}: when boxinit cannot start afresh it says which variables still act, and runs`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    const result = await runBoxinit(mode, ["--", "true"], { env: { NODE_DEBUG: "none-such", BOXINIT_ADDON: "/nonexistent/boxinit.node" }, timeoutMs: 30_000 });
    t.equal(result.code, 0, result.stderr);
    t.match(result.stderr, /warning: node-environment: NODE_DEBUG still acts in this boxinit: it cannot start afresh without it: the addon did not load/);
  });

  t.test(`${mode}: NODE_USE_ENV_PROXY with HTTP_PROXY: the warm-up goes to the service, never through the proxy`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);
    let proxyConnections = 0;
    const proxy = await listening(createTcpServer((socket) => {
      proxyConnections++;
      socket.destroy();
    }));
    const warmupAgents: string[] = [];
    const app = await listening(createHttpServer((request, response) => {
      warmupAgents.push(request.headers["user-agent"] ?? "");
      response.end("ok");
    }));
    t.teardown(() => {
      proxy.close();
      app.close();
    });
    const box = makeBox(t, `services:
  app:
    command: 'printf "%s\\n" "$NODE_USE_ENV_PROXY"; exec sleep 1000'
    warmup: {http: "http://127.0.0.1:${port(app)}/", interval: 50ms, timeout: 20s}
`);
    const proxyUrl = `http://127.0.0.1:${port(proxy)}`;
    const run = startBoxinit(mode, box.args, { env: { NODE_USE_ENV_PROXY: "1", HTTP_PROXY: proxyUrl, http_proxy: proxyUrl, NO_PROXY: "", no_proxy: "" } });
    await run.waitFor(/warm-up passed service=app/, "stderr", 30_000);
    await run.signal("SIGTERM");
    const ended = await run.result(30_000);
    t.equal(ended.code, 0, run.stderr);
    t.equal(run.stdout, "1\n", "the service got NODE_USE_ENV_PROXY");
    t.ok(warmupAgents.includes("boxinit-warmup"), "the warm-up reached the service directly");
    t.equal(proxyConnections, 0, "nothing went to the proxy");
  });
}

// Answers the first IPC message it gets, or exits 3 when none comes.
const ANSWER_PROGRAM = `process.once("message", (message) => process.send({ answer: message.question }, () => process.exit(0)));
setTimeout(() => process.exit(3), 10000);
`;

const listening = async <T extends Server>(server: T): Promise<T> => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
};

const port = (server: Server): number => (server.address() as AddressInfo).port;

t.test("the thread pool is boxinit's default size, whatever UV_THREADPOOL_SIZE says", async (t) => {
  const dir = t.testdir({});
  mkdirSync(join(dir, "state"));
  // A job writes status.json and its report through fs: if anything used the
  // thread pool, 64 threads would show in /proc; count boxinit's own threads from inside the job.
  const result = await runBoxinit("subreaper", ["--state-dir", join(dir, "state"), "job", "count", "--", "sh", "-c", "ls /proc/$PPID/task | wc -l"], {
    env: { UV_THREADPOOL_SIZE: "64" },
    timeoutMs: 30_000,
  });
  t.equal(result.code, 0, result.stderr);
  t.ok(Number(result.stdout.trim()) < 30, `boxinit has ${result.stdout.trim()} threads, not 64 pool threads and more`);
  t.ok(readdirSync(join(dir, "state")).length > 0);
});

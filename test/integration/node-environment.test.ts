// The container's Node variables are the command's (issue 13, bug 7): the
// command and services receive each one exactly as the container set it, and
// PID 1 does not act on those it could read. Files Node would read are FIFOs
// without a writer: a boxinit that opened one would hang and fail the test.
import t from "tap";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit } from "../helpers/boxinit.ts";
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
}

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

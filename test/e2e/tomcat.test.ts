// The real Tomcat (images/tomcat: Debian's tomcat10, catalina.sh start/stop,
// CATALINA_PID as the pidfile) under boxinit in a --network host container
// on 127.0.0.1:18080: `running` only once Tomcat answers, a JVM killed with
// -9 makes the box `degraded` (health fails) until the restart brings it back,
// backoff and `docker stop` end it with catalina.sh stop inside the grace,
// and a pidfile path that is not CATALINA_PID fails clearly (exit 69) without
// a second Tomcat started over a running one.
import http from "node:http";
import t, { type Test } from "tap";
import {
  TOMCAT_IMAGE, makeHostConfigDir, makeHostStateDir, readImageFile, replaceExactly, requireDocker,
  requireFreeLoopbackPort, sampleWhileStatus, startContainer, type Container, type DockerEvent, type HostStateDir,
} from "../helpers/docker.ts";

const PORT = 18080;
const URL = `http://127.0.0.1:${PORT}/`;
const CONFIG = "/etc/boxinit/boxinit.yaml";
const CATALINA_PID = "/run/tomcat10/catalina.pid";
// A JVM starts in seconds; these bound a stuck run, they are not expectations.
const BOOT_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
// What Tomcat logs (through its console, in `docker logs`) when it shuts down in order.
const TOMCAT_SHUTDOWN = /org\.apache\.catalina\.core\.StandardService\.stopInternal Stopping service \[Catalina\]/;

/** The HTTP status of a GET, or the error's code when nothing answered. */
const httpStatus = (url: string, timeoutMs = 5000): Promise<number | string> =>
  new Promise((resolve) => {
    const request = http.get(url, { timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? "no status");
    });
    request.once("timeout", () => request.destroy(new Error("timeout")));
    request.once("error", (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
  });

const startTomcat = (t: Test, what: string, state: HostStateDir, options: string[] = []): Promise<Container> =>
  startContainer(t, what, { image: TOMCAT_IMAGE, options: ["--network", "host", ...state.mount, ...options] });

const health = async (box: Container, mode?: "--live" | "--ready"): Promise<number> =>
  (await box.exec(["boxinit", "health", ...(mode ? [mode] : [])])).code;

const dockerKilled = (events: readonly DockerEvent[]): boolean =>
  events.some((event) => event.action === "kill" && event.attributes.signal === "9");

// The JVM ended: catalina.sh stop saw it gone, or Tomcat logged its orderly shutdown.
const JVM_ENDED = new RegExp(`^Tomcat stopped\\.$|${TOMCAT_SHUTDOWN.source}`, "m");
// Lines that show boxinit had to SIGKILL something or a phase ran out of time.
const FORCED = /phase-overran|killed: sent SIGKILL|sent SIGKILL/;

t.test("Tomcat (Debian's tomcat10) under boxinit", async (t) => {
  if (!(await requireDocker(t, [TOMCAT_IMAGE]))) return;
  if (!(await requireFreeLoopbackPort(t, PORT))) return;

  await t.test("running only once Tomcat answers; kill -9 of the JVM: degraded, health fails, restarted", async (t) => {
    const state = makeHostStateDir(t);
    const box = await startTomcat(t, "tomcat-boot", state);
    const seen = await state.waitForStatus(["running", "failed", "stopped"], BOOT_TIMEOUT_MS);
    t.equal(seen.at(-1), "running", `status went ${seen.join(" -> ")}`);
    t.equal(await httpStatus(URL), 200, "Tomcat answers 200 as soon as the status says running");
    t.ok(seen.includes("warming"), "it was `warming` while the JVM came up");
    t.equal(await health(box), 0, "boxinit health: 0 while running");
    t.match(state.statusJson()?.services?.tomcat, { state: "running", restarts: 0 });

    const pid = state.statusJson()?.services?.tomcat?.pid;
    const pidfile = (await box.exec(["cat", CATALINA_PID])).stdout.trim();
    t.equal(String(pid), pidfile, "boxinit follows the pid catalina.sh wrote to CATALINA_PID");
    const comm = (await box.exec(["cat", `/proc/${pid}/comm`])).stdout.trim();
    t.equal(comm, "java", "and that is the JVM");

    const killedAt = Date.now();
    t.equal((await box.exec(["kill", "-9", String(pid)])).code, 0, "kill -9 of the JVM");
    await state.waitForStatus("degraded", 10_000);
    t.comment(`degraded seen ${Date.now() - killedAt} ms after kill -9 returned`);
    // All three at once: the window lasts the restart delay plus the start, on a loaded machine too.
    const [plain, ready, live] = await sampleWhileStatus(state, "degraded", () =>
      Promise.all([health(box), health(box, "--ready"), health(box, "--live")]));
    t.not(plain, 0, "boxinit health fails while the JVM is down");
    t.not(ready, 0, "so does boxinit health --ready");
    t.equal(live, 0, "boxinit health --live passes: PID 1 is managing it");

    const back = await state.waitForStatus(["running", "failed", "stopped"], BOOT_TIMEOUT_MS);
    t.equal(back.at(-1), "running", `after the restart: ${back.join(" -> ")}`);
    t.equal(await httpStatus(URL), 200, "Tomcat answers again");
    t.equal(await health(box), 0, "boxinit health: 0 again");
    const service = state.statusJson()?.services?.tomcat;
    t.equal(service?.restarts, 1, "one restart");
    t.not(service?.pid, pid, "a new JVM");
    // The status is on the host at once; Docker copies the log on its own time: wait for the line.
    const logs = await box.waitForLogs([/service tomcat was killed by SIGKILL; restarting/]);
    t.match(logs, /service tomcat was killed by SIGKILL; restarting/, "the log says why it restarted");
    t.notMatch(logs, /appears to still be running/, "catalina.sh never found a running Tomcat at the restart");
  });

  await t.test("backoff from the host: catalina.sh stop, backedoff, the stop command's exit code", async (t) => {
    const state = makeHostStateDir(t);
    const box = await startTomcat(t, "tomcat-backoff", state);
    await state.waitForStatus("running", BOOT_TIMEOUT_MS);
    t.equal(await httpStatus(URL), 200);
    state.write("backoff", "true\n");
    const seen = await state.waitForStatus(["backedoff", "stopped", "failed"], STOP_TIMEOUT_MS);
    t.equal(seen.at(-1), "backedoff", `host-side status went ${seen.join(" -> ")}`);
    const code = await box.wait(STOP_TIMEOUT_MS);
    const logs = await box.logsInOrder();
    t.match(logs, /running the stop command of service tomcat .*catalina\.sh","stop"/, "boxinit ran catalina.sh stop");
    t.match(logs, /^Tomcat stopped\.$/m, "catalina.sh saw the JVM end");
    t.match(logs, TOMCAT_SHUTDOWN, "Tomcat shut down in order");
    const stopCode = logs.match(/the stop command of service tomcat exited with code (\d+)/)?.[1];
    t.ok(stopCode !== undefined, "the log has the stop command's exit code");
    t.equal(code, Number(stopCode), "the container's exit code is catalina.sh stop's");
    t.equal(code, 0, "which is 0: Tomcat stopped in time");
    t.notMatch(logs, FORCED, "nothing overran, nothing was killed");
    t.match(state.statusJson(), { state: "backedoff", backoff: true, exitCode: code });
    t.not(await httpStatus(URL), 200, "Tomcat no longer answers");
  });

  await t.test("docker stop: catalina.sh stop within the grace, no SIGKILL, exit 0", async (t) => {
    const state = makeHostStateDir(t);
    const box = await startTomcat(t, "tomcat-stop", state);
    await state.waitForStatus("running", BOOT_TIMEOUT_MS);
    const stopBegun = Date.now();
    // Docker would SIGKILL after 30 s; boxinit's grace is 9 s.
    await box.stop(30);
    t.comment(`docker stop returned after ${Date.now() - stopBegun} ms`);
    t.equal(await box.wait(), 0, "exit code 0");
    const logs = await box.logsInOrder();
    t.match(logs, /running the stop command of service tomcat/, "catalina.sh stop ran");
    t.match(logs, TOMCAT_SHUTDOWN, "Tomcat shut down in order");
    t.notMatch(logs, FORCED, "no phase overran, nothing was killed");
    t.equal(state.status(), "stopped");
    t.notOk(dockerKilled(await box.events()), "Docker never had to SIGKILL");
  });

  await t.test("a pidfile path that is not CATALINA_PID: a clear first error, exit 69, never a Tomcat over a running one", async (t) => {
    const wrongPidfile = "/run/tomcat10/tomcat.pid";
    let config = await readImageFile(TOMCAT_IMAGE, CONFIG);
    config = replaceExactly(config, `pidfile: ${CATALINA_PID}`, `pidfile: ${wrongPidfile}`);
    // A short wait for the file that never comes, one retry that starts Tomcat again.
    config = replaceExactly(config, "pidfile_timeout: 30s", "pidfile_timeout: 10s");
    config = replaceExactly(config, "max_restarts: 5", "max_restarts: 1");
    const configDir = makeHostConfigDir(t, { "boxinit.yaml": config });
    const state = makeHostStateDir(t);
    const box = await startTomcat(t, "tomcat-pidfile", state, [
      "-v", `${configDir}:/etc/boxinit-test:ro`, "-e", "BOXINIT_CONFIG=/etc/boxinit-test/boxinit.yaml",
    ]);
    const code = await box.wait(BOOT_TIMEOUT_MS);
    const logs = await box.logsInOrder();
    t.equal(code, 69, "exit 69: the pidfile never named the service (EX_UNAVAILABLE)");
    const firstError = logs.split("\n").find((line) => line.startsWith("boxinit: error: "));
    t.match(firstError, new RegExp(`pidfile ${wrongPidfile.replaceAll(".", "\\.")}`), "the first error names the pidfile");
    t.notMatch(logs, /appears to still be running/, "catalina.sh never found the first JVM still running");
    t.notMatch(logs, FORCED, "what a failed start left was stopped, not killed");
    // Every JVM this box started was stopped before the next try, or before it gave up.
    const starts = logs.split(/^boxinit: spawned: started service tomcat .*$/m).slice(1);
    t.ok(starts.length >= 1, `the service was started (${starts.length} times)`);
    starts.forEach((segment, index) => {
      if (!/^Tomcat started\.$/m.test(segment)) return; // this start launched no JVM
      // catalina.sh stop says "Tomcat stopped." once the JVM is gone; Tomcat's own
      // shutdown lines are missing when the TERM came while it was still starting.
      t.match(segment, JVM_ENDED, `the JVM of start ${index + 1} ended before the next start or the end`);
    });
    t.equal(state.status(), "failed", "the box failed");
  });
});

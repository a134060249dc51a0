// A book's Deployment and control ConfigMap from `boxinit host kube`, played
// by a real engine that runs Kubernetes YAML: podman 4.3 (`podman kube
// play`, Debian's package, scripts/podman.sh). The box is the Confluence
// stand-in in Mini-VM mode (test/fixtures/kube-e2e/app.book.yaml).
//
// What podman plays, and so what is proven here: the Deployment's pod (one
// replica, restartPolicy Always), its container's image, args and env, the
// ConfigMap mounted as a directory, hostPath volumes. What podman 4.3
// ignores, and so what is NOT proven here: readinessProbe and startupProbe,
// preStop, terminationGracePeriodSeconds (podman's stop timeout stays 10 s:
// the test passes the manifest's value to `pod stop -t` as the kubelet
// would), the Service; a livenessProbe becomes a podman healthcheck that never
// runs without systemd. podman mounts a ConfigMap as plain files without the
// kubelet's `..data` link, so the update test mounts a directory laid out the
// kubelet's way (helpers/kubelet-volume.ts) with hostPath instead.
// The pod gets a network namespace of its own (podman --network none: only
// loopback, where the stand-in answers the warm-up on 8090). The changes
// made for podman (helpers/kube-manifests.ts forPodman): containerPorts
// removed (podman 4.3 refuses them without a bridge network, even with
// hostNetwork) and annotation values over 63 characters dropped (podman 4.3
// refuses them). The image plays under the name the manifest gives it
// (podman holds a copy of Docker's image by that name).
import t, { type Test } from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sleep } from "../helpers/boxinit.ts";
import { CONFLUENCE_IMAGE, replaceExactly } from "../helpers/docker.ts";
import { makeKubeBookFrom, type KubeBook } from "../helpers/kube-book.ts";
import { configMapAsHostPath, findManifest, forPodman, podSpecOf, type Manifest } from "../helpers/kube-manifests.ts";
import { makeKubeletVolume } from "../helpers/kubelet-volume.ts";
import { parseJsonLog } from "../helpers/mini-vm.ts";
import { playKube, podmanImageAs, podmanOk, requirePodman, type PodContainer } from "../helpers/podman.ts";
import { stateDirReader, type StateDirReader } from "../helpers/state-dir.ts";

/** The service of the image's /etc/boxinit/boxinit.yaml. */
const SERVICE = "confluence";
const FINAL = ["running", "failed", "stopped", "backedoff"];
/** probe.port of the probe test's box (BOXINIT_PROBE_PORT): in the pod's own network namespace. */
const PROBE_PORT = 8099;

interface PlayedBox {
  book: KubeBook;
  manifests: Manifest[];
  container: PodContainer;
  pod: string;
  state: StateDirReader;
}

interface PlayOptions {
  /** A change to the manifests before they are played. */
  adapt?: (manifests: Manifest[], book: KubeBook) => Manifest[];
  /** A change to the book's text (test/fixtures/kube-e2e/app.book.yaml). */
  editBook?: (text: string) => string;
}

/** The book's manifests from host kube, adapted and played; the state directory read on the host. */
const playBook = async (t: Test, options: PlayOptions = {}): Promise<PlayedBox> => {
  const { adapt = (manifests) => manifests, editBook = (text) => text } = options;
  const book = await makeKubeBookFrom(t, editBook(readFileSync(join(ROOT, "test/fixtures/kube-e2e/app.book.yaml"), "utf8")), CONFLUENCE_IMAGE);
  const manifests = await book.manifests();
  const deployment = findManifest(manifests, "Deployment");
  const spec = podSpecOf(deployment);
  const image = spec.containers[0].image;
  // Never pushed, so no registry digest: host kube writes the promoted tag, never pulled.
  t.equal(image, `${book.repo}:run`, "the Deployment runs the book's promoted image");
  t.equal(spec.containers[0].imagePullPolicy, "Never");
  await podmanImageAs(t, CONFLUENCE_IMAGE, image);
  const played = await playKube(t, forPodman(adapt(manifests, book)));
  const pod = played.pods[0]!;
  return { book, manifests, pod, container: played.container(pod, spec.containers[0].name), state: stateDirReader(book.home, 50, 90_000) };
};

/** What podman says of the container: its host pid (PID 1 of the pod), start time and restarts. */
const lifeOf = async (container: PodContainer): Promise<{ pid: number; startedAt: string; restarts: number; running: boolean }> => {
  const inspected = await container.inspect();
  return { pid: inspected.State.Pid, startedAt: inspected.State.StartedAt, restarts: inspected.RestartCount, running: inspected.State.Running };
};

/** Wait until status.json's updatedAt has moved count times (PID 1's heartbeat: it is alive and writing). */
const waitForHeartbeats = async (state: StateDirReader, count: number, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let last = state.statusJson()?.updatedAt;
  for (let beats = 0; beats < count; ) {
    if (Date.now() > deadline) throw new Error(`status.json's updatedAt moved ${beats} of ${count} times within ${timeoutMs} ms`);
    await sleep(100);
    const now = state.statusJson()?.updatedAt;
    if (now === undefined || now === last) continue;
    beats++;
    last = now;
  }
};

t.test("host kube's Deployment and ConfigMap on podman: running, then a clean stop", async (t) => {
  if (!(await requirePodman(t, [CONFLUENCE_IMAGE]))) return;
  const box = await playBook(t);

  const seen = await box.state.waitForStatus(FINAL);
  t.equal(seen.at(-1), "running", `the box reaches running (saw ${seen.join(" -> ")})`);
  t.ok(["starting", "warming"].includes(seen[0]!), "through starting or warming first");
  const json = box.state.statusJson()!;
  t.equal(json.pid, 1, "written by the pod's PID 1");
  t.equal(json.services?.[SERVICE]?.state, "running");
  t.equal(json.backoff, false, "the control ConfigMap says false");

  const control = findManifest(box.manifests, "ConfigMap", `${box.book.name}-control`);
  const spec = podSpecOf(findManifest(box.manifests, "Deployment"));
  const volume = spec.volumes.find((each: any) => each.configMap?.name === control.metadata!.name);
  const mount = spec.containers[0].volumeMounts.find((each: any) => each.name === volume?.name);
  t.ok(mount, "the control ConfigMap is mounted");
  t.notOk(mount?.subPath, "as a directory, never subPath (a subPath mount never sees an update)");
  t.equal((await box.container.readFile(`${mount.mountPath}/backoff`))?.trim(), "false", "its backoff key is a file in the pod");

  const health = await box.container.exec(["boxinit", "health", "--ready"]);
  t.equal(health.code, 0, `boxinit health --ready passes in the pod: ${health.stdout.trim()}`);
  const life = await lifeOf(box.container);
  t.equal(life.restarts, 0, "podman never restarted it");

  // The kubelet's stop: SIGTERM, then SIGKILL after terminationGracePeriodSeconds (podman ignores the field: -t).
  const graceS = spec.terminationGracePeriodSeconds;
  t.type(graceS, "number", "the Deployment sets terminationGracePeriodSeconds");
  await podmanOk(["pod", "stop", "-t", String(graceS), box.pod], (graceS + 60) * 1000);
  const stopped = await box.container.inspect();
  t.equal(stopped.State.ExitCode, 0, "PID 1 exits 0 within the grace period: the stop script ran, nothing was killed");
  t.equal(box.state.status(), "stopped");
  const logs = parseJsonLog(await box.container.logs());
  t.notOk(logs.some((entry) => entry.event === "phase-overran" || entry.event === "killed"), "nothing overran boxinit's budget or had to be killed");
});

t.test("a kubelet-style ..data swap of the control directory: backoff engages, the pod idles, release boots again", async (t) => {
  if (!(await requirePodman(t, [CONFLUENCE_IMAGE]))) return;
  const control = makeKubeletVolume(t, { backoff: "false\n" });
  const box = await playBook(t, { adapt: (manifests, book) => configMapAsHostPath(manifests, `${book.name}-control`, control.path) });
  t.equal((await box.state.waitForStatus(FINAL)).at(-1), "running");
  const before = await lifeOf(box.container);
  const appPid = box.state.statusJson()?.services?.[SERVICE]?.pid;
  t.type(appPid, "number", "the app's pid is in status.json");

  const swappedAt = Date.now();
  control.update({ backoff: "true\n" });
  const engaged = await box.state.waitForStatus(["backedoff", "stopped", "failed"]);
  t.equal(engaged.at(-1), "backedoff", `backoff engaged (saw ${engaged.join(" -> ")})`);
  // boxinit's own clock (its JSON log), not the test's polling through podman:
  // inotify on the ..data rename reacts in milliseconds; the 5 s safety re-read would be seconds.
  // The status is on the host at once; podman copies the log on its own time: wait for the line.
  const stopping = await box.container.waitFor("boxinit's log line of the stop",
    async () => parseJsonLog(await box.container.logs()).find((entry) => entry.timeMs >= swappedAt - 50 && entry.event === "state" && /stopping/.test(entry.msg)),
    (entry) => entry !== undefined);
  t.ok(stopping, "boxinit logged the box stopping after the swap");
  const reactionMs = stopping!.timeMs - swappedAt;
  t.comment(`..data swap -> stopping: ${reactionMs} ms by boxinit's log`);
  t.ok(reactionMs < 1000, `the swap was seen within a second (${reactionMs} ms)`);

  // Idle: PID 1 keeps its heartbeat (1 s here) going; two beats later the pod is still the same process.
  await waitForHeartbeats(box.state, 2);
  t.same(await lifeOf(box.container), before, "same PID 1, same start, no restart: the pod idles instead of crash-looping");
  t.equal(box.state.status(), "backedoff");
  t.notOk(box.state.statusJson()?.services?.[SERVICE]?.pid, "status.json: the app is stopped");
  t.equal((await box.container.exec(["pgrep", "-x", "standin-httpd"])).code, 1, "no app process left in the pod");
  t.not((await box.container.exec(["boxinit", "health", "--ready"])).code, 0, "health --ready fails while backed off");
  t.equal((await box.container.exec(["boxinit", "health", "--live"])).code, 0, "health --live passes while idle");

  control.update({ backoff: "false\n" });
  const released = await box.state.waitForStatus(["running", "failed", "stopped"]);
  t.equal(released.at(-1), "running", `release boots the app again (saw ${released.join(" -> ")})`);
  const newPid = box.state.statusJson()?.services?.[SERVICE]?.pid;
  t.type(newPid, "number");
  t.not(newPid, appPid, "a new app process");
  t.equal((await box.container.exec(["pgrep", "-x", "standin-httpd"])).stdout.trim(), String(newPid), "the one app process in the pod is the new one");
  t.same(await lifeOf(box.container), before, "still the same PID 1, never restarted");
});

t.test("PID 1's own probe answers in the pod: /readyz and /livez while running and while backed off", async (t) => {
  if (!(await requirePodman(t, [CONFLUENCE_IMAGE]))) return;
  const control = makeKubeletVolume(t, { backoff: "false\n" });
  const box = await playBook(t, {
    editBook: (text) => replaceExactly(text, "\nenv:\n", `\nenv:\n  BOXINIT_PROBE_PORT: "${PROBE_PORT}"\n`),
    adapt: (manifests, book) => configMapAsHostPath(manifests, `${book.name}-control`, control.path),
  });
  const container = podSpecOf(findManifest(box.manifests, "Deployment")).containers[0];
  t.same(container.readinessProbe?.httpGet, { path: "/readyz", port: PROBE_PORT }, "host kube asks PID 1 over HTTP: no process per probe");
  t.same(container.livenessProbe?.httpGet, { path: "/livez", port: PROBE_PORT });
  t.equal((await box.state.waitForStatus(FINAL)).at(-1), "running");

  // podman runs no probe: the test asks what the kubelet would, from inside the pod's network.
  const ready = await box.container.httpGet(PROBE_PORT, "/readyz");
  t.equal(ready.status, 200, `/readyz while running: ${ready.body.trim() || ready.error}`);
  t.match(ready.body, /running/);
  t.equal((await box.container.httpGet(PROBE_PORT, "/livez")).status, 200, "/livez while running");

  control.update({ backoff: "true\n" });
  t.equal((await box.state.waitForStatus(["backedoff", "stopped", "failed"])).at(-1), "backedoff");
  const idleReady = await box.container.httpGet(PROBE_PORT, "/readyz");
  t.equal(idleReady.status, 503, `/readyz while backed off: ${idleReady.body.trim() || idleReady.error}`);
  t.match(idleReady.body, /backedoff/);
  t.equal((await box.container.httpGet(PROBE_PORT, "/livez")).status, 200, "/livez while backed off: the kubelet leaves the pod alone");
});

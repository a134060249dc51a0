// The project's example book, images/confluence/confluence.book.yaml, through
// `boxinit host kube` and a real engine: podman 4.3 (`podman kube play`). Its
// Confluence data map is writable and on claims, so host kube makes a
// StatefulSet; podman 4.3 plays none, so the test plays it as what its one
// replica is: a Deployment whose pod mounts standalone claims under the names
// Kubernetes gives them (helpers/kube-manifests.ts statefulSetAsDeployment).
// The book has no network key: the pod gets its own network namespace
// (podman --network none), the stand-in answers on 8090 inside it. Claims
// become podman volumes; the test reads the state directory's on the host.
// What podman ignores (probes, preStop, terminationGracePeriodSeconds, the
// Service): see kube-box.test.ts.
import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/boxinit.ts";
import { CONFLUENCE_IMAGE, replaceExactly } from "../helpers/docker.ts";
import { makeKubeBookFrom } from "../helpers/kube-book.ts";
import { claimMountedAt, findManifest, forPodman, podSpecOf, statefulSetAsDeployment } from "../helpers/kube-manifests.ts";
import { playKube, podmanImageAs, podmanOk, requirePodman } from "../helpers/podman.ts";
import { stateDirReader } from "../helpers/state-dir.ts";

const EXAMPLE = join(ROOT, "images/confluence/confluence.book.yaml");
const DATA_DIR = "/var/atlassian/application-data/confluence";

t.test("the Confluence example book: StatefulSet and claims on podman, running, then a clean stop", async (t) => {
  if (!(await requirePodman(t, [CONFLUENCE_IMAGE]))) return;
  // Its own name and image repository, so no test shares a tag; every other line as in the example.
  const example = readFileSync(EXAMPLE, "utf8");
  const text = replaceExactly(replaceExactly(example, "\nname: confluence\n", "\nname: @NAME@\n"), "\nimage: boxinit/confluence\n", "\nimage: boxinit-e2e/@NAME@\n");
  const book = await makeKubeBookFrom(t, text, CONFLUENCE_IMAGE);
  const manifests = await book.manifests();
  const statefulSet = findManifest(manifests, "StatefulSet");
  t.equal(statefulSet.spec.replicas, 1);
  t.equal(statefulSet.spec.volumeClaimTemplates?.length, 2, "claims for the state directory and Confluence's data");

  const playable = forPodman(statefulSetAsDeployment(manifests));
  const deployment = findManifest(playable, "Deployment");
  await podmanImageAs(t, CONFLUENCE_IMAGE, podSpecOf(deployment).containers[0].image);
  const played = await playKube(t, playable);
  const container = played.container(`${deployment.metadata!.name}-pod-0`, podSpecOf(deployment).containers[0].name);

  const stateClaim = claimMountedAt(deployment, "/docker");
  t.ok(stateClaim, "the state directory is on a claim");
  const mountpoint = (await podmanOk(["volume", "inspect", "--format", "{{.Mountpoint}}", stateClaim!])).trim();
  const state = stateDirReader(mountpoint, 50, 90_000);
  const seen = await state.waitForStatus(["running", "failed", "stopped", "backedoff"]);
  t.equal(seen.at(-1), "running", `the box reaches running (saw ${seen.join(" -> ")})`);
  t.equal(state.statusJson()?.services?.confluence?.state, "running");
  const mounts = (await container.inspect()).Mounts as Array<{ Name?: string; Destination: string }>;
  t.equal(mounts.find((mount) => mount.Destination === DATA_DIR)?.Name, claimMountedAt(deployment, DATA_DIR), "Confluence's data is on its own claim");

  const graceS = podSpecOf(deployment).terminationGracePeriodSeconds;
  await podmanOk(["pod", "stop", "-t", String(graceS), played.pods[0]!], (graceS + 60) * 1000);
  t.equal((await container.inspect()).State.ExitCode, 0, "PID 1 exits 0 within the grace period");
  t.equal(state.status(), "stopped");
});

// Zombies in a real container: orphans that a service leaves behind are
// re-parented to boxinit (PID 1) and reaped; `docker exec ps` (procps is in
// the base image) shows none in state Z.
import t from "tap";
import { BASE_IMAGE, FIXTURES_MOUNT, makeHostConfigDir, makeHostStateDir, requireDocker, runToEnd, startContainer, type Container } from "../helpers/docker.ts";
import { sleep } from "../helpers/boxinit.ts";

const processes = async (box: Container): Promise<Array<{ pid: number; ppid: number; stat: string; args: string }>> => {
  const ps = await box.exec(["ps", "-eo", "pid=,ppid=,stat=,args="]);
  if (ps.code !== 0) throw new Error(`docker exec ps: exit ${ps.code}: ${ps.stderr}`);
  return ps.stdout.split("\n").filter(Boolean).map((line) => {
    const [pid, ppid, stat, ...args] = line.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), stat: stat!, args: args.join(" ") };
  });
};

t.test("zombies", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;

  await t.test("a service that leaves orphans: docker exec ps shows no zombie", async (t) => {
    // Each ( … & ) subshell exits at once; its sleep is re-parented to PID 1
    // and exits 3 s later, a zombie unless boxinit reaps it.
    const config = makeHostConfigDir(t, {
      "boxinit.yaml": [
        "services:",
        "  orphan-maker:",
        "    command: [/bin/sh, -c, 'i=0; while [ $i -lt 30 ]; do (/bin/sleep 3 &); i=$((i+1)); done; echo orphans-made; exec /bin/sleep 100000']",
        "",
      ].join("\n"),
    });
    const state = makeHostStateDir(t);
    const box = await startContainer(t, "zombies", { image: BASE_IMAGE, options: [...state.mount, "-v", `${config}:/etc/boxinit:ro`] });
    await state.waitForStatus("running");
    const first = await processes(box);
    t.equal(first.find((entry) => entry.pid === 1)?.args, "/sbin/boxinit", "PID 1 is boxinit");
    const orphans = first.filter((entry) => entry.args === "/bin/sleep 3");
    t.ok(orphans.length > 0 && orphans.every((entry) => entry.ppid === 1), `the orphans were re-parented to PID 1 (${orphans.length} seen)`);

    // Until the orphans have all exited; any that stayed a zombie would show up as Z.
    const deadline = Date.now() + 20_000;
    let now = first;
    while (now.some((entry) => entry.args === "/bin/sleep 3" || entry.stat.startsWith("Z"))) {
      if (Date.now() > deadline) break;
      await sleep(200);
      now = await processes(box);
    }
    const zombies = now.filter((entry) => entry.stat.startsWith("Z"));
    t.same(zombies, [], "no zombie left");
    t.notOk(now.some((entry) => entry.args === "/bin/sleep 3"), "every orphan is gone");
    t.equal(state.status(), "running", "the service kept running");
  });

  await t.test("tini-style: 500 orphans of the main command are reaped", async (t) => {
    // build/fixtures/orphans makes N orphans and counts zombies among PID 1's children.
    const { code, logs } = await runToEnd(t, "orphans", { image: BASE_IMAGE, options: FIXTURES_MOUNT, command: ["/fixtures/orphans", "500"] });
    t.equal(code, 0, "the fixture saw its orphans reaped");
    t.match(logs, /orphans=500 zombies=0/);
  });
});

// Exit codes through `docker wait`, with the base image's ENTRYPOINT
// (tini-style: `docker run IMAGE CMD`): the command's own code, 128+N for a
// signal (137 for the OOM killer's SIGKILL, never 0 as my_init said), 143
// after docker stop, --remap-exit, 127/126, 2 for a usage error. And an app
// that ignores SIGTERM is killed at boxinit's deadline, not by Docker.
import t from "tap";
import { BASE_IMAGE, requireDocker, runToEnd, startContainer } from "../helpers/docker.ts";

t.test("exit codes through docker wait", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;

  await t.test("the command's code, 127, 126, 2", async (t) => {
    const cases: Array<{ what: string; command: string[]; code: number; log?: RegExp }> = [
      { what: "exit-0", command: ["true"], code: 0 },
      { what: "exit-3", command: ["sh", "-c", "exit 3"], code: 3 },
      { what: "kill-9", command: ["sh", "-c", "kill -KILL $$"], code: 137, log: /child-exited: the main command ended pid=\d+ signal=SIGKILL/ },
      { what: "not-found", command: ["/no/such/program"], code: 127, log: /cannot run "\/no\/such\/program": no such file/ },
      { what: "not-exec", command: ["/etc/hostname"], code: 126 },
      { what: "usage", command: ["--grace", "soon", "true"], code: 2, log: /usage/ },
    ];
    const results = await Promise.all(cases.map((spec) => runToEnd(t, spec.what, { image: BASE_IMAGE, command: spec.command })));
    for (const [index, spec] of cases.entries()) {
      const { code, logs } = results[index]!;
      t.equal(code, spec.code, `${spec.command.join(" ")} -> ${spec.code}`);
      if (spec.log) t.match(logs, spec.log);
    }
  });

  await t.test("137 for a command the kernel's OOM killer killed", async (t) => {
    // A shell doubling a string until the 256 MB limit: the largest process
    // in the cgroup by far, so the OOM killer picks it, not boxinit (~45 MB).
    const { code, container } = await runToEnd(t, "oom", {
      image: BASE_IMAGE,
      options: ["--memory", "256m", "--memory-swap", "256m"],
      command: ["sh", "-c", 'x=0123456789abcdef; while :; do x="$x$x"; done'],
    });
    t.equal(code, 137);
    t.equal((await container.inspect()).State.OOMKilled, true, "Docker saw an OOM kill");
  });

  await t.test("143 after docker stop, 0 with --remap-exit 143:0", async (t) => {
    const plain = await startContainer(t, "term", { image: BASE_IMAGE, command: ["sleep", "600"] });
    const remapped = await startContainer(t, "remap", { image: BASE_IMAGE, command: ["--remap-exit", "143:0", "sleep", "600"] });
    await Promise.all([plain, remapped].map((box) => box.waitForInspect((doc) => doc.State.Running, "running")));
    // Only once boxinit has started the command can the stop reach it.
    await Promise.all([plain, remapped].map(async (box) => {
      const deadline = Date.now() + 15_000;
      while (!/spawned/.test(await box.logs())) {
        if (Date.now() > deadline) throw new Error(`${box.name}: the command never started`);
        await new Promise((wake) => setTimeout(wake, 50));
      }
    }));
    await Promise.all([plain.stop(30), remapped.stop(30)]);
    t.equal(await plain.wait(), 143, "sleep died of SIGTERM: 128+15");
    t.equal(await remapped.wait(), 0, "--remap-exit 143:0");
  });

  await t.test("a command that ignores SIGTERM is killed at the deadline (--grace 3s), not after Docker's timeout", async (t) => {
    const box = await startContainer(t, "ignore-term", {
      image: BASE_IMAGE,
      command: ["--grace", "3s", "sh", "-c", "trap '' TERM; echo ignoring; sleep 600 & wait"],
    });
    const deadline = Date.now() + 15_000;
    while (!/ignoring/.test(await box.logs())) {
      if (Date.now() > deadline) throw new Error("the command never started");
      await new Promise((wake) => setTimeout(wake, 50));
    }
    await box.stop(30);
    t.equal(await box.wait(), 137, "128+9: killed at the deadline");
    const events = await box.events();
    const term = events.find((event) => event.action === "kill" && event.attributes.signal === "15")!;
    const die = events.find((event) => event.action === "die")!;
    const ms = die.timeMs - term.timeMs;
    t.notOk(events.some((event) => event.action === "kill" && event.attributes.signal === "9"), "Docker never sent SIGKILL");
    // Not before boxinit's 3 s deadline (less Docker's own event timing); that it was
    // boxinit's kill and not Docker's is the event above. How close to the deadline: bench/deadline.sh.
    t.ok(ms >= 2500, `ended at boxinit's 3 s deadline, not before (took ${ms} ms)`);
    t.match(await box.logs(), /phase-overran/);
  });
});

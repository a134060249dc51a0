// boxinit's own log: typed lifecycle events, as text or as JSON lines.
import t from "tap";
import { MODES, killAllRuns, missingPrerequisite, runBoxinit } from "../helpers/boxinit.ts";

t.teardown(killAllRuns);

for (const mode of MODES) {
  t.test(`${mode}: logging`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("--log-format json: one JSON object per line, with event and message", async (t) => {
      const result = await runBoxinit(mode, ["--log-format", "json", "--", "/bin/sh", "-c", "echo app output; exit 4"]);
      t.equal(result.code, 4);
      t.equal(result.stdout, "app output\n", "the command's output is untouched");
      const lines = result.stderr.trim().split("\n");
      const events = lines.map((line) => JSON.parse(line) as { event: string; msg: string; level: number });
      t.ok(events.every((e) => typeof e.msg === "string" && typeof e.level === "number"));
      t.same(events.map((e) => e.event).filter((e) => e !== "subreaper"), ["spawned", "child-exited", "exit"]);
      for (const line of lines) t.ok((line.match(/"pid":/g) ?? []).length <= 1, "no duplicate keys");
    });

    await t.test("BOXINIT_LOG_FORMAT=json does the same; -q silences info", async (t) => {
      const json = await runBoxinit(mode, ["--", "/bin/true"], { env: { BOXINIT_LOG_FORMAT: "json" } });
      t.match(json.stderr, /^\{"level":30,/);
      const quiet = await runBoxinit(mode, ["-q", "--", "/bin/true"]);
      t.equal(quiet.stderr, "");
    });

    await t.test("-vv logs each reaped orphan with its exit code", async (t) => {
      const result = await runBoxinit(mode, ["-vv", "--", "/bin/sh", "-c", "(sh -c 'exit 3' &); sleep 0.2; kill -HUP $$"]);
      t.equal(result.code, 129);
      t.match(result.stderr, /orphan-reaped: reaped a process pid=\d+ code=3/);
    });
  });
}

// The host workflow end to end on the real engine, with the Confluence image
// (built from the stand-in): promote → run → status → backoff on --wait →
// cron (held by backoff, then cleaning up with the stop script's exit code)
// → run again.
import t from "tap";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFLUENCE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { inspectContainer, makeBook, waitExit } from "../helpers/host.ts";

// The stand-in's stop script exits with this: the code the box, then cron, must pass on.
const STOP_EXIT = 5;

const CONFLUENCE_BOOK = [
  "entrypoint: [/sbin/boxinit]",
  "command: []",
  "hostname: wiki01",
  "env:",
  '  STANDIN_WARMUP_MS: "300"',
  `  STANDIN_STOP_EXIT: "${STOP_EXIT}"`,
].join("\n");

t.test("host workflow: promote, run, status, backoff --wait, cron, run again", async (t) => {
  if (!(await requireDocker(t, [CONFLUENCE_IMAGE]))) return;
  const book = makeBook(t, CONFLUENCE_BOOK);
  await book.tag(CONFLUENCE_IMAGE, "latest");

  const promoted = await book.host("promote");
  t.equal(promoted.code, 0, promoted.stderr);
  t.equal(await book.imageId("run"), await book.imageId("latest"), "promote tagged :latest as :run");

  const run = await book.host("run");
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, new RegExp(`boxinit host run: ${book.container}: started [0-9a-f]{12} from ${book.repo}:run`));
  await book.waitForStatus("running");

  const status = await book.host("status");
  t.equal(status.code, 0, "status exits 0 while the container runs");
  t.match(status.stdout, new RegExp(`container: ${book.container} \\([0-9a-f]{12}\\): running since`));
  t.match(status.stdout, /\n {2}state: {5}running since /, "the state directory's status.json, as boxinit status shows it");
  const json = JSON.parse((await book.host("status", "--json")).stdout);
  t.equal(json.container.isRunning, true);
  t.equal(json.container.isCurrentRunImage, true);
  t.equal(json.stateDir.statusJson.state, "running");
  t.equal(json.stateDir.status, "running", "the one-word status file");
  t.equal(json.stateDir.isStale, false);

  const again = await book.host("run");
  t.equal(again.code, 3, "run refuses while it runs");
  t.match(again.stderr, new RegExp(`^boxinit host: error: ${book.container} is already running \\(since .*\\); to replace it`));
  t.equal(again.stderr.trim().split("\n").length, 1, "one line");

  const backoff = await book.host("backoff", "on", "--wait");
  t.equal(backoff.code, 0, backoff.stderr);
  t.match(backoff.stdout, /on: wrote "true" to .*\/backoff\n/);
  t.match(backoff.stdout, new RegExp(`${book.container}: status backedoff after `));
  t.equal(await waitExit(book.container), STOP_EXIT, "the box exits with the stop script's code");
  const stopped = await book.host("status", "--json");
  t.equal(stopped.code, 3, "status exits 3 when the container is not running");
  t.equal(JSON.parse(stopped.stdout).stateDir.statusJson.state, "backedoff");

  const held = await book.host("cron");
  t.equal(held.code, 0);
  t.match(held.stdout, new RegExp(`${book.container}: exited \\(exit ${STOP_EXIT}\\); backoff is engaged .*: nothing to do\\n$`));
  t.ok(await inspectContainer(book.container), "backoff engaged: the exited container is left alone");

  t.equal((await book.host("backoff", "off")).code, 0);
  const cron = await book.host("cron");
  t.equal(cron.code, 0, cron.stderr);
  const logs = readdirSync(join(book.home, "logs")).filter((name) => name.includes(`-cron-failure-${book.name}-`));
  t.equal(logs.length, 1, `one failure log: ${logs.join(", ")}`);
  t.match(logs[0], new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ-cron-failure-${book.name}-exit-${STOP_EXIT}-wiki01$`));
  t.match(cron.stdout, new RegExp(`exited ${STOP_EXIT} at .*: logs saved to ${join(book.home, "logs", logs[0]!)}; removed\\n$`));
  const saved = readFileSync(join(book.home, "logs", logs[0]!), "utf8");
  t.match(saved, /boxinit: .*backoff/, "the container's own log: boxinit saying why it stopped");
  t.match(saved, new RegExp(`result: exit ${STOP_EXIT}\\n`));
  t.equal(await inspectContainer(book.container), undefined, "cron removed the container");

  const rerun = await book.host("run");
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stdout, /started/);
  await book.waitForStatus("running");
  t.ok(existsSync(join(book.home, "status.json")));
});

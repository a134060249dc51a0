import type Dockerode from "dockerode";
import t from "tap";
import type { Book } from "../../src/host/book-types.ts";
import { decideCron, factsOf, leaveLine, type CronDecision } from "../../src/host/cron.ts";

const book: Book = {
  file: "t.book.yaml", name: "app", image: "app", entrypoint: false, command: undefined, ports: [], maps: [],
  home: "/srv/app", env: {}, restart: undefined, healthcheck: undefined, network: undefined, hostname: undefined,
};

/** The part of `docker inspect` that cron reads. */
const inspectOf = (status: string, exitCode: number): Dockerode.ContainerInspectInfo => ({
  Id: "0123456789abcdef0123", Name: "/app-production",
  State: {
    Status: status, Running: status === "running", Paused: status === "paused", Restarting: status === "restarting",
    OOMKilled: false, Dead: status === "dead", Pid: 0, ExitCode: exitCode, Error: "",
    StartedAt: "2026-11-26T07:00:00.123456789Z", FinishedAt: "2026-11-26T07:55:16.5Z",
  },
} as unknown as Dockerode.ContainerInspectInfo);

const ON = () => true;
const OFF = () => false;
// Backoff must not even be read while the engine is at work on the container.
const UNREADABLE = () => {
  throw new Error("backoff read for a running container");
};

t.test("the seed's order, row by row: running, then backoff, then the exit code", async (t) => {
  const rows: [status: string, exitCode: number, backoff: () => boolean, expected: CronDecision][] = [
    ["running", 0, UNREADABLE, "leave-running"],
    ["running", 143, UNREADABLE, "leave-running"],
    ["paused", 0, UNREADABLE, "leave-running"],
    ["restarting", 1, UNREADABLE, "leave-running"],
    ["removing", 0, UNREADABLE, "leave-running"],
    ["exited", 0, ON, "leave-backoff"],
    ["exited", 3, ON, "leave-backoff"],
    ["dead", 137, ON, "leave-backoff"],
    ["created", 0, ON, "leave-backoff"],
    ["exited", 0, OFF, "remove"],
    ["created", 0, OFF, "remove"],
    ["dead", 0, OFF, "remove"],
    ["exited", 1, OFF, "save-and-remove"],
    ["exited", 137, OFF, "save-and-remove"],
    ["dead", 255, OFF, "save-and-remove"],
    ["created", 128, OFF, "save-and-remove"],
  ];
  for (const [status, exitCode, backoff, expected] of rows) {
    t.equal(decideCron({ status, exitCode }, backoff), expected, `${status}, exit ${exitCode}, backoff ${backoff === ON ? "on" : backoff === OFF ? "off" : "unreadable"}`);
  }
});

t.test("no container: nothing there, unless backoff says to leave everything", async (t) => {
  t.equal(decideCron(undefined, OFF), "nothing-there");
  t.equal(decideCron(undefined, ON), "leave-backoff");
});

t.test("a running container is left even with backoff unreadable and a stale non-zero exit code", async (t) => {
  t.equal(decideCron({ status: "running", exitCode: 143 }, UNREADABLE), "leave-running", "running is decided before backoff is read");
});

t.test("factsOf: the status and exit code from inspect", async (t) => {
  t.strictSame(factsOf(inspectOf("exited", 3)), { status: "exited", exitCode: 3 });
  t.equal(factsOf(undefined), undefined);
});

t.test("leaveLine: what cron says when it does nothing", async (t) => {
  t.equal(leaveLine("leave-running", book, inspectOf("running", 0)),
    "app-production: running since 2026-11-26T07:00:00.123456789Z: nothing to do");
  t.equal(leaveLine("leave-running", book, inspectOf("restarting", 1)),
    "app-production: restarting since 2026-11-26T07:00:00.123456789Z: nothing to do", "the engine's own status word");
  t.equal(leaveLine("leave-backoff", book, inspectOf("exited", 143)),
    "app-production: exited (exit 143); backoff is engaged (/srv/app/backoff says true): nothing to do");
  t.equal(leaveLine("leave-backoff", book, undefined),
    "app-production: no container; backoff is engaged (/srv/app/backoff says true): nothing to do");
});

t.test("leaveLine names the backoff file as a path, whatever the book's home looks like", async (t) => {
  t.equal(leaveLine("leave-backoff", { ...book, home: "/srv/app/" }, undefined),
    "app-production: no container; backoff is engaged (/srv/app/backoff says true): nothing to do",
    "a home with a trailing / (books allow it)");
});

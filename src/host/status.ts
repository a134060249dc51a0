// `boxinit host status BOOK [--json]`: the container as the engine sees it
// (state, exit code, health, image) beside what boxinit inside last wrote to
// the state directory (status, status.json, whether that is stale, and what
// `boxinit health --live` and `--ready` would answer).
import { join } from "node:path";
import type Dockerode from "dockerode";
import { readRegularFile } from "../control/atomic-write.ts";
import { checkBackoff, escapeControls } from "../control/backoff.ts";
import { isStale, readStatus, type StatusDocument } from "../control/status-read.ts";
import { judgeHealth, type HealthVerdict } from "../control/health-verdict.ts";
import { STATUS_FILE } from "../control/status-file.ts";
import { formatStatus } from "../control/status-format.ts";
import type { Book } from "./book-types.ts";
import { containerName, imageRef, TAGS } from "./container-spec.ts";
import { findContainer, findImage, type Engine } from "./engine.ts";
import { HOST_EXIT } from "./errors.ts";

/** The container part of the report; null when there is no container. */
export interface ContainerReport {
  name: string;
  id: string;
  status: string;
  isRunning: boolean;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  /** Docker's health status (starting, healthy, unhealthy), or null without a health check. */
  health: string | null;
  image: string;
  imageId: string;
  /** Whether it runs what IMAGE:run is now (false after a promote, until the next start). */
  isCurrentRunImage: boolean | null;
}

export interface HostStatusReport {
  book: string;
  container: ContainerReport | null;
  stateDir: {
    path: string;
    /** The one-word status file, trimmed; null when missing or unreadable. */
    status: string | null;
    statusJson: StatusDocument | null;
    /** Why status.json could not be used, when it could not. */
    problem: string | null;
    isStale: boolean;
    /** status.json was last written before the container started: by an earlier run. */
    isFromEarlierRun: boolean;
    isBackoffEngaged: boolean;
    /** `boxinit health --live` on this status.json, and whether the container runs; null without a usable status.json. */
    live: HealthVerdict | null;
    /** `boxinit health --ready` likewise: ready only in `running`, not `degraded`. */
    ready: HealthVerdict | null;
  };
}

/**
 * A status.json last written before the container started belongs to an
 * earlier run: its "backedoff" says nothing about this one, which may not
 * have written yet. Host and container share one clock.
 */
export const isFromEarlierRun = (updatedAt: unknown, containerStartedAt: string | undefined): boolean => {
  if (containerStartedAt === undefined || typeof updatedAt !== "string") return false;
  const written = Date.parse(updatedAt);
  const started = Date.parse(containerStartedAt);
  return !Number.isNaN(written) && !Number.isNaN(started) && written < started;
};

const containerReport = (info: Dockerode.ContainerInspectInfo, runImageId: string | undefined): ContainerReport => ({
  name: info.Name.replace(/^\//, ""),
  id: info.Id,
  status: info.State.Status,
  isRunning: info.State.Running,
  exitCode: info.State.ExitCode,
  startedAt: info.State.StartedAt,
  finishedAt: info.State.FinishedAt,
  health: info.State.Health?.Status ?? null,
  image: info.Config.Image,
  imageId: info.Image,
  isCurrentRunImage: runImageId === undefined ? null : runImageId === info.Image,
});

// Only the first line matters; bounded like every read of a file others write.
const STATUS_WORD_BYTES = 256;

const readStatusWord = (home: string): string | null => {
  try {
    return readRegularFile(join(home, STATUS_FILE), STATUS_WORD_BYTES, { noFollow: true }).toString("utf8").split("\n")[0]!.trim();
  } catch {
    return null; // missing or unreadable: status.json's problem line says why
  }
};

/**
 * Both health verdicts as seen from the host. A container that is not running
 * answers neither, whatever status.json says: a killed boxinit leaves a fresh
 * `running` behind for up to three heartbeats.
 */
export const hostVerdicts = (
  document: StatusDocument | null,
  container: { name: string; isRunning: boolean } | null,
  nowMs: number,
): { live: HealthVerdict | null; ready: HealthVerdict | null } => {
  if (document === null) return { live: null, ready: null };
  if (container?.isRunning !== true) {
    const down: HealthVerdict = { isHealthy: false, why: container === null ? "no container" : `container ${container.name} is not running` };
    return { live: down, ready: down };
  }
  return { live: judgeHealth("live", document, nowMs), ready: judgeHealth("ready", document, nowMs) };
};

/** Gather the report: two engine calls and two file reads. */
export const hostStatus = async (engine: Engine, book: Book, nowMs: number): Promise<HostStatusReport> => {
  const info = await findContainer(engine, containerName(book));
  const runImage = info === undefined ? undefined : await findImage(engine, imageRef(book, TAGS.run));
  const read = readStatus(book.home);
  const container = info === undefined ? null : containerReport(info, runImage?.Id);
  return {
    book: book.file,
    container,
    stateDir: {
      path: book.home,
      status: readStatusWord(book.home),
      statusJson: read.ok ? read.document : null,
      problem: read.ok ? null : read.message,
      isStale: read.ok && isStale(read.document, nowMs),
      isFromEarlierRun: read.ok && isFromEarlierRun(read.document.updatedAt, info?.State.StartedAt),
      isBackoffEngaged: checkBackoff(book.home).engaged,
      ...hostVerdicts(read.ok ? read.document : null, container, nowMs),
    },
  };
};

const containerLines = (book: Book, container: ContainerReport | null): string[] => {
  if (container === null) return [`container: ${containerName(book)}: none`];
  const ended = container.isRunning ? `since ${container.startedAt}` : `(exit ${container.exitCode}) at ${container.finishedAt}`;
  const image = container.isCurrentRunImage === false ? " (not the current :run: a promote is waiting for the next start)" : "";
  // Engine values are escaped like the state directory's: names and images are anyone's to choose.
  return [
    escapeControls(`container: ${container.name} (${container.id.slice(0, 12)}): ${container.status} ${ended}`),
    escapeControls(`health:    ${container.health ?? "no health check"}`),
    escapeControls(`image:     ${container.image} ${container.imageId.replace(/^sha256:/, "").slice(0, 12)}${image}`),
  ];
};

const verdictText = (verdict: HealthVerdict): string => (verdict.isHealthy ? "yes" : `no: ${verdict.why}`);

/** The report for people (pure): the container, the health verdicts, then the state directory as `boxinit status` shows it. */
export const formatHostStatus = (book: Book, report: HostStatusReport, nowMs: number): string => {
  const dir = report.stateDir;
  const lines = [
    ...containerLines(book, report.container),
    `state dir: ${dir.path}: status ${escapeControls(dir.status ?? "-")}, backoff ${dir.isBackoffEngaged ? "engaged" : "not engaged"}`,
    ...(dir.isFromEarlierRun ? ["  (status.json was written before this container started: by an earlier run; this one has not written yet)"] : []),
    ...(dir.live === null ? [] : [`  live:      ${verdictText(dir.live)}`]),
    ...(dir.ready === null ? [] : [`  ready:     ${verdictText(dir.ready)}`]),
  ];
  // The problem can quote the file's own bytes (JSON.parse does): escaped, it stays one line.
  const inside = dir.statusJson === null ? `  ${escapeControls(dir.problem ?? "")}\n` : formatStatus(dir.statusJson, nowMs).replace(/^(?=.)/gm, "  ");
  return `${lines.join("\n")}\n${inside}`;
};

/** Exit code of `host status`: 0 while the container runs, 3 otherwise (as LSB status commands). */
export const statusExitCode = (report: HostStatusReport): number =>
  report.container?.isRunning === true ? HOST_EXIT.ok : HOST_EXIT.notRunning;

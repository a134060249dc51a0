// A failed run's output saved where the seed's alerting looks for it:
// HOME/logs/<ISO-8601>-cron-failure-NAME-exit-CODE-HOSTNAME. The container's
// stdout and stderr come from the engine's log endpoint, in the order they
// were written, and stream straight into the file (no size cap: the seed kept
// all of it, and the container is removed right after).
import type { Readable } from "node:stream";
import type Dockerode from "dockerode";
import { escapeControls } from "../control/backoff.ts";
import { abandonReport, finishReport, startReport, writeAllBytes } from "../jobs/report.ts";
import { reportFileName } from "../jobs/report-name.ts";
import { loadNative } from "../native/addon.ts";
import { engineCall, type Engine } from "./engine.ts";

// Docker's multiplexed log stream (non-TTY containers): each frame is an
// 8-byte header, [stream, 0, 0, 0, size as big-endian uint32], then the bytes.
const FRAME_HEADER_BYTES = 8;

/**
 * Split Docker's multiplexed stream into its payloads, in order; `push` each
 * chunk as it arrives, `end` says whether the stream stopped inside a frame.
 */
export const frameReader = (onPayload: (bytes: Buffer) => void) => {
  let pending = Buffer.alloc(0);
  let remaining = 0;
  return {
    push(chunk: Buffer): void {
      let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      while (data.length > 0) {
        if (remaining > 0) {
          const take = Math.min(remaining, data.length);
          onPayload(data.subarray(0, take));
          remaining -= take;
          data = data.subarray(take);
        } else if (data.length < FRAME_HEADER_BYTES) {
          pending = Buffer.from(data);
          return;
        } else {
          remaining = data.readUInt32BE(4);
          data = data.subarray(FRAME_HEADER_BYTES);
        }
      }
    },
    isCut: (): boolean => remaining > 0 || pending.length > 0,
  };
};

/** When the failure happened: the container's FinishedAt, or now when the engine has none. */
export const failureTime = (finishedAt: string | undefined, now: Date): Date => {
  const at = finishedAt === undefined ? Number.NaN : Date.parse(finishedAt);
  // A container that never ran says 0001-01-01T00:00:00Z.
  return Number.isNaN(at) || at <= 0 ? now : new Date(at);
};

/** The header above the output (pure): what ran, where, and how it ended. */
export const failureHeader = (info: Dockerode.ContainerInspectInfo, bookName: string): string => {
  const state = info.State;
  const lines = [
    "# boxinit host cron failure report",
    `book: ${escapeControls(bookName)}`,
    `container: ${escapeControls(info.Name.replace(/^\//, ""))} (${info.Id.slice(0, 12)})`,
    `image: ${escapeControls(info.Config.Image)} (${info.Image})`,
    `host: ${escapeControls(info.Config.Hostname)}`,
    `started: ${state.StartedAt}`,
    `finished: ${state.FinishedAt}`,
    `result: exit ${state.ExitCode}${state.OOMKilled ? " (killed by the kernel: out of memory)" : ""}`,
    ...(state.Error ? [`engine error: ${escapeControls(state.Error)}`] : []),
    "--- output (stdout and stderr as they arrived) ---",
  ];
  return `${lines.join("\n")}\n`;
};

/**
 * The container's whole log as a stream that ends at its last line. Through
 * docker-modem's dial, because dockerode's logs() either buffers it all in
 * memory (follow false) or, with follow, keeps streaming if the container is
 * started again meanwhile.
 */
const logStream = async (docker: Dockerode, id: string): Promise<Readable> =>
  await new Promise<Readable>((resolve, reject) => {
    const request = {
      path: `/containers/${id}/logs?`, method: "GET", isStream: true,
      statusCodes: { 200: true, 404: "no such container", 500: "server error" },
      options: { stdout: true, stderr: true, follow: false },
    };
    docker.modem.dial(request, (error, stream) => (error ? reject(error) : resolve(stream as Readable)));
  });

const streamInto = async (stream: Readable, onChunk: (chunk: Buffer) => void): Promise<void> => {
  for await (const chunk of stream) onChunk(chunk as Buffer);
};

/**
 * Save the container's logs under <home>/logs with the seed's name; returns
 * the path relative to home (`logs/…`). Throws when the file cannot be
 * written, so the caller keeps the container (the output must not be lost).
 */
export const saveFailureLog = async (engine: Engine, info: Dockerode.ContainerInspectInfo, bookName: string, home: string, now = new Date()): Promise<string> => {
  // The addon's *at calls keep a root host cron from writing through a symlink swapped in at HOME/logs.
  const draft = startReport(home, loadNative().native);
  try {
    writeAllBytes(draft.fd, Buffer.from(failureHeader(info, bookName)));
    const write = (bytes: Buffer) => writeAllBytes(draft.fd, bytes);
    const reader = frameReader(write);
    await engineCall(engine, `read the logs of ${info.Name.replace(/^\//, "")}`, async (docker) => {
      const stream = await logStream(docker, info.Id);
      await streamInto(stream, info.Config.Tty ? write : (chunk) => reader.push(chunk));
    });
    // A cut stream is not a saved log: the caller keeps the container.
    if (!info.Config.Tty && reader.isCut()) throw new Error("the engine's log stream ended inside a frame");
  } catch (error) {
    abandonReport(draft);
    throw error;
  }
  const at = failureTime(info.State.FinishedAt, now);
  return finishReport(draft, at, (time) => reportFileName(time, bookName, info.State.ExitCode, info.Config.Hostname));
};

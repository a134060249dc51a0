// status.json's `jobs` as PID 1 carries it over from write to write. Job runs
// own that key (job-status.ts); PID 1 passes it through unchanged, and with
// 10,000 records (4 MB) parsing and serialising it again at every heartbeat
// cost PID 1 tens of milliseconds a write. So PID 1 keeps the text it last
// wrote, and while status.json still holds exactly that text (the same
// decoded characters: what a parse would have been given), the `jobs` part
// of it is reused as it is. Anything else there (a job run's write, a hand
// edit, a garbled file) takes the whole way: read, parse, and a document that
// cannot be used kept aside (status-document.ts), exactly as before.
import { MAX_STATUS_JSON_BYTES, STATUS_JSON_NAME, type StatusDirOps } from "./status-document.ts";

/**
 * A document's text as JSON.stringify(document, null, 2) gives it, cut where
 * a last key `jobs` would have its value: `{ ... ,\n  "jobs": `. The document
 * must have at least one key.
 */
export const headText = (document: Record<string, unknown>): string => `${JSON.stringify(document, null, 2).slice(0, -2)},\n  "jobs": `;

/**
 * `jobs`' value nested one level deep, and the document's end: what
 * JSON.stringify of the whole document gives after headText's cut. A JSON
 * text has no raw newline inside a string, so each "\n" is a line break of
 * the layout, and each is indented by one more level.
 */
export const jobsTail = (jobs: unknown): string => `${JSON.stringify(jobs ?? {}, null, 2).replaceAll("\n", "\n  ")}\n}\n`;

/** PID 1's last written status.json text, and where its `jobs` value begins in it. */
export class CarriedJobs {
  #written: string | undefined;
  #writtenBytes = 0;
  #tailAt = 0;

  /**
   * The text to write: head's keys, then `jobs` as status.json holds them:
   * the last text's own while the file is unchanged, else readJobs() (which
   * reads and parses, and may throw). The text is remembered as written:
   * whether it really was is told by the file's content at the next call.
   */
  compose(dir: StatusDirOps, head: Record<string, unknown>, readJobs: () => unknown): string {
    const tail = this.#unchangedTail(dir) ?? jobsTail(readJobs());
    const start = headText(head);
    const text = start + tail;
    this.#written = text;
    this.#writtenBytes = Buffer.byteLength(text);
    this.#tailAt = start.length;
    return text;
  }

  // The last text's `jobs` part when status.json holds exactly that text;
  // undefined on any doubt, error included: the whole way then decides.
  #unchangedTail(dir: StatusDirOps): string | undefined {
    const written = this.#written;
    if (written === undefined) return undefined;
    let bytes: Buffer;
    try {
      if (dir.entry(STATUS_JSON_NAME)?.kind !== "file") return undefined;
      bytes = dir.read(STATUS_JSON_NAME, MAX_STATUS_JSON_BYTES + 1);
    } catch {
      return undefined;
    }
    // Decoded as the parse would decode it: the same characters, the same `jobs`.
    if (bytes.length !== this.#writtenBytes || bytes.toString("utf8") !== written) return undefined;
    return written.slice(this.#tailAt);
  }
}

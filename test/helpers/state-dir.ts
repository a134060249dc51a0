// Reading a state directory the way a host tool does, shared by the PID 1
// tests (helpers/mini-vm.ts) and the container tests (helpers/docker.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "./boxinit.ts";

export interface StateDirReader {
  /** The word in `status`, or undefined while there is none. */
  status(): string | undefined;
  /** status.json parsed, or undefined while missing or torn. */
  statusJson(): Record<string, any> | undefined;
  /** Poll until `status` says one of the words; every distinct word seen on the way. */
  waitForStatus(words: string | readonly string[], timeoutMs?: number): Promise<string[]>;
}

/** A reader of dir's status files, polling every pollMs, waiting defaultTimeoutMs unless told. */
export const stateDirReader = (dir: string, pollMs: number, defaultTimeoutMs: number): StateDirReader => {
  const status = (): string | undefined => {
    try {
      return readFileSync(join(dir, "status"), "utf8").trim();
    } catch {
      return undefined;
    }
  };
  return {
    status,
    statusJson() {
      try {
        return JSON.parse(readFileSync(join(dir, "status.json"), "utf8"));
      } catch {
        return undefined;
      }
    },
    async waitForStatus(words, timeoutMs = defaultTimeoutMs) {
      const wanted = typeof words === "string" ? [words] : words;
      const seen: string[] = [];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const word = status();
        if (word !== undefined && seen.at(-1) !== word) seen.push(word);
        if (word !== undefined && wanted.includes(word)) return seen;
        if (Date.now() > deadline) throw new Error(`${dir}/status never became ${wanted.join("|")}; saw ${seen.join(" -> ") || "nothing"}`);
        await sleep(pollMs);
      }
    },
  };
};

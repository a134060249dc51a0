// A scratch "container" for Mini-VM tests: a temporary directory holding the
// config, the state directory and any scripts, plus deadline-bound waits on
// the status file that boxinit writes there.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "./boxinit.ts";

export interface Box {
  dir: string;
  stateDir: string;
  configPath: string;
  /** Arguments that point boxinit at this box: --config FILE. */
  args: string[];
  /** Write an executable script under the box and return its path. */
  script(name: string, body: string): string;
  /** The `status` word, or undefined when there is none yet. */
  status(): string | undefined;
  /** status.json parsed, or undefined. */
  statusJson(): Record<string, any> | undefined;
  /** Poll until `status` says one of the words; returns every distinct word seen on the way. */
  waitForStatus(words: string | readonly string[], timeoutMs?: number): Promise<string[]>;
  /** Write the backoff file in place. */
  setBackoff(content: string): void;
}

/**
 * Make a box. `config` is the YAML body; the placeholder STATE in it is
 * replaced by the state directory and BOX by the box directory. init_dir and
 * finish_dir default to BOX/init.d and BOX/finish.d unless the YAML sets them.
 */
export const makeBox = (t: { teardown: (fn: () => void) => void }, config: string, prefix = "boxinit-box-"): Box => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stateDir = join(dir, "state");
  mkdirSync(stateDir);
  const configPath = join(dir, "boxinit.yaml");
  let yaml = config.replaceAll("STATE", stateDir).replaceAll("BOX", dir);
  if (!/^state_dir:/m.test(yaml)) yaml = `state_dir: ${stateDir}\n${yaml}`;
  if (!/^init_dir:/m.test(yaml)) yaml = `init_dir: ${join(dir, "init.d")}\n${yaml}`;
  if (!/^finish_dir:/m.test(yaml)) yaml = `finish_dir: ${join(dir, "finish.d")}\n${yaml}`;
  writeFileSync(configPath, yaml);
  const status = (): string | undefined => {
    try {
      return readFileSync(join(stateDir, "status"), "utf8").trim();
    } catch {
      return undefined;
    }
  };
  return {
    dir,
    stateDir,
    configPath,
    args: ["--config", configPath],
    script(name, body) {
      const file = join(dir, name);
      mkdirSync(join(file, ".."), { recursive: true });
      writeFileSync(file, body.startsWith("#!") ? body : `#!/bin/sh\n${body}`);
      chmodSync(file, 0o755);
      return file;
    },
    status,
    statusJson() {
      try {
        return JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8"));
      } catch {
        return undefined;
      }
    },
    async waitForStatus(words, timeoutMs = 15_000) {
      const wanted = typeof words === "string" ? [words] : words;
      const seen: string[] = [];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const word = status();
        if (word !== undefined && seen.at(-1) !== word) seen.push(word);
        if (word !== undefined && wanted.includes(word)) return seen;
        if (Date.now() > deadline) throw new Error(`status never became ${wanted.join("|")}; saw ${seen.join(" -> ") || "nothing"}`);
        await sleep(5);
      }
    },
    setBackoff(content) {
      writeFileSync(join(stateDir, "backoff"), content);
    },
  };
};

// The signal-record fixture's side of the exactly-once tests: the signals a
// test sends, what the command recorded, and the proof for one signal.
import type { Test } from "tap";
import type { Ended } from "./boxinit.ts";

/** Every signal 1-31 another process may send boxinit: all but KILL (9), CHLD (17), STOP (19). */
export const SENDABLE: ReadonlyArray<{ number: number; name: string }> = [
  "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
  "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
].map((name, index) => ({ number: index + 1, name })).filter(({ name }) => !["KILL", "CHLD", "STOP"].includes(name));

/** The three that start the orderly stop (and end signal-record). */
export const STOP_SIGNALS: ReadonlySet<string> = new Set(["TERM", "INT", "QUIT"]);

/** The names signal-record printed, in order ("signal HUP" → "HUP"). */
export const recordedSignals = (output: string): string[] =>
  [...output.matchAll(/^signal (\w+)$/gm)].map((match) => match[1]!);

/** What a test needs of a boxinit run, on a terminal or not. */
export interface RecordRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly hasEnded: boolean;
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  boxinitPid(): Promise<number>;
  result(timeoutMs?: number): Promise<Ended>;
}

const describeEnd = (ended: Ended): string => (ended.signal ? `killed by ${ended.signal}` : `exit ${ended.code}`);

/**
 * One signal, sent to boxinit by this process once the command is ready,
 * must reach the command exactly once and bring no other signal: TERM, INT
 * and QUIT end the run ([N]); any other is followed by a TERM once recorded
 * ([N, TERM]). The command exits 0 either way, so boxinit must too.
 */
export const proveReachesCommandOnce = async (t: Test, run: RecordRun, signal: { number: number; name: string }): Promise<void> => {
  await run.waitFor(/^ready /m);
  const pid = await run.boxinitPid();
  process.kill(pid, signal.number);
  const expected = STOP_SIGNALS.has(signal.name) ? [signal.name] : [signal.name, "TERM"];
  if (!STOP_SIGNALS.has(signal.name)) {
    try {
      await run.waitFor(new RegExp(`^signal ${signal.name}$`, "m"));
    } catch {
      const ended = run.hasEnded ? await run.result() : undefined;
      t.fail(`SIG${signal.name} never reached the command${ended ? `: boxinit ended first (${describeEnd(ended)})` : ""}`, {
        recorded: recordedSignals(run.stdout),
        stdout: run.stdout,
        stderr: run.stderr,
      });
      return;
    }
    process.kill(pid, "SIGTERM");
  }
  const ended = await run.result();
  t.same(recordedSignals(run.stdout), expected, `the command recorded exactly ${expected.join(", ")}`, { stderr: run.stderr });
  t.match(run.stdout, /^end$/m, "the command ended on its own (it recorded what was still pending)");
  t.same(ended, { code: 0, signal: null }, "boxinit exited 0, the command's code");
};

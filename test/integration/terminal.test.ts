// Interactive use on a real pty: the command owns the terminal's foreground,
// so Ctrl-C reaches it exactly once and boxinit not at all, and bash -i has
// job control.
import t from "tap";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { BOXINIT, MODES, ROOT, fixture, missingPrerequisite, type Mode } from "../helpers/boxinit.ts";
import { PtyRun, killAllPtyRuns } from "../helpers/pty-run.ts";
import { recordedSignals } from "../helpers/signal-record.ts";

t.teardown(killAllPtyRuns);

type Step = ["expect" | "send", string];

const onPty = (mode: Mode, args: readonly string[], steps: readonly Step[]): Promise<{ transcript: string; code: number | null }> =>
  new Promise((resolve) => {
    const command = mode === "pid1" ? ["unshare", "--pid", "--fork", "--mount-proc", BOXINIT, ...args] : [BOXINIT, ...args];
    const child = spawn("python3", [join(ROOT, "test/helpers/pty-session.py"), JSON.stringify(steps), "--", ...command], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let transcript = "";
    child.stdout.on("data", (chunk: Buffer) => { transcript += chunk.toString(); });
    child.on("close", (code) => resolve({ transcript, code }));
  });

for (const mode of MODES) {
  t.test(`${mode}: terminal`, async (t) => {
    const missing = missingPrerequisite(mode);
    if (missing) return t.fail(missing);

    await t.test("Ctrl-C reaches the foreground program exactly once and boxinit zero times", async (t) => {
      // Wait for boxinit's own "spawned" line too: a Ctrl-C flushes the
      // terminal's unread output, which would swallow it.
      const { transcript, code } = await onPty(mode, ["-v", "--", fixture("sigint-count")], [
        ["expect", "terminal=true"],
        ["expect", "^ready"],
        ["send", "\x03"],
        ["expect", "sigint=\\d"],
      ]);
      t.equal(code, 0, transcript);
      t.match(transcript, /sigint=1\b/);
      t.match(transcript, /terminal=true/, "boxinit gave the command the terminal");
      t.notMatch(transcript, /stop requested|signal-forwarded/, "boxinit itself got no signal");
      t.match(transcript, /pty-exit=0/);
    });

    await t.test("with stty tostop, boxinit's own log lines neither spin nor hang it", async (t) => {
      // An interactive bash (under a quiet boxinit) runs the boxinit under test
      // as a foreground job, the way a person at a terminal would.
      const inner = mode === "pid1" ? `unshare --pid --fork --mount-proc ${BOXINIT}` : BOXINIT;
      const { transcript, code } = await onPty("subreaper", ["-q", "--", "bash", "--norc", "-i"], [
        ["expect", "[$#] $"],
        ["send", `stty tostop; ${inner} -vv -- sh -c '(sh -c "exit 3" &); sleep 0.5; exit 4'; echo "inner=$?"\n`],
        ["expect", "inner=\\d+"],
        ["send", "exit 0\n"],
      ]);
      t.equal(code, 0, transcript);
      t.match(transcript, /inner=4/);
      t.match(transcript, /orphan-reaped: reaped a process pid=\d+ code=3/, "log lines written from the background still arrive");
    });

    // Issue 14: boxinit now forwards a TTOU sent by another process; the one
    // the kernel raises for its own background terminal write must still
    // neither stop nor spin boxinit, nor reach the command.
    await t.test("with stty tostop, boxinit's own log lines raise no signal for the command", async (t) => {
      const bash = new PtyRun(["bash", "--norc", "--noprofile", "-i"], { env: { HISTFILE: "/dev/null" } });
      t.teardown(() => bash.kill());
      await bash.waitFor(/[$#] $/);
      const inner = mode === "pid1" ? `unshare --pid --fork --mount-proc ${BOXINIT}` : BOXINIT;
      bash.type(`stty tostop; ${inner} -vv -- ${fixture("signal-record")}; echo "inner=$?"\n`);
      // "spawned" is written after the command took the terminal: from the background.
      await bash.waitFor(/^ready .*foreground=1$/m);
      await bash.waitFor(/spawned: started the main command/);
      // relay → bash → [unshare →] boxinit
      const boxinit = await bash.pidAt(mode === "pid1" ? 3 : 2);
      process.kill(boxinit, "SIGTERM");
      const [, code] = await bash.waitFor(/inner=(\d+)/);
      t.equal(code, "0", "boxinit exited with the command's 0", { transcript: bash.stdout });
      t.same(recordedSignals(bash.stdout), ["TERM"], "the command got the TERM and nothing else");
      t.match(bash.stdout, /stop requested signal=SIGTERM[^]*boxinit exiting code=0/, "boxinit's log lines written from the background arrived");
    });

    // Under `unshare --pid` boxinit's group lies outside its namespace, so it
    // cannot tell background from foreground there (README); as PID 1 under
    // Docker it leads its own session. So this one runs the subreaper only.
    await t.test("started in the background (&), boxinit leaves the terminal to the shell", { skip: mode === "pid1" ? "foreground is unknowable under unshare --pid (documented)" : false }, async (t) => {
      const { transcript, code } = await onPty("subreaper", ["-q", "--", "bash", "--norc", "-i"], [
        ["expect", "[$#] $"],
        ["send", `${BOXINIT} -q -- sleep 2 &\n`],
        // Half a second without a foreground job (a job would make bash take
        // the terminal back), then a builtin read from the terminal: it fails
        // if boxinit handed the foreground to its command.
        ["send", "t=$(date +%s%N); while (( $(date +%s%N) - t < 500000000 )); do :; done; read -t 2 line; echo read-$?-$line\n"],
        ["send", "typed\n"],
        ["expect", "read-0-typed"],
        ["send", "wait; echo waited-$?; exit 0\n"],
        ["expect", "waited-0"],
      ]);
      t.equal(code, 0, transcript);
      t.match(transcript, /pty-exit=0/, "the interactive shell kept its terminal and exited normally");
    });

    await t.test("bash -i gets job control", async (t) => {
      const { transcript, code } = await onPty(mode, ["-q", "--", "bash", "--norc", "-i"], [
        ["expect", "[$#] $"],
        ["send", "sleep 30 &\n"],
        ["send", "jobs; echo flags=$-\n"],
        ["expect", "flags=\\w+"],
        ["send", "kill %1; exit 7\n"],
      ]);
      t.equal(code, 0, transcript);
      t.match(transcript, /flags=\w*m/, "monitor mode (job control) is on");
      t.match(transcript, /\[1\]\+\s+Running\s+sleep 30/);
      t.notMatch(transcript, /no job control|cannot set terminal process group/);
      t.match(transcript, /pty-exit=7/, "bash's exit code comes back");
    });
  });
}

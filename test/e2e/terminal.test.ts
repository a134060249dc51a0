// `docker run -it`: a real pty (test/helpers/pty-session.py) drives the
// docker client; inside, boxinit gives bash the terminal: job control works,
// and Ctrl-C reaches the foreground program exactly once, boxinit not at all.
import t from "tap";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../helpers/boxinit.ts";
import { BASE_IMAGE, E2E_LABEL, FIXTURES_MOUNT, docker, requireDocker, uniqueName } from "../helpers/docker.ts";

type Step = ["expect" | "send", string];

const onPty = (command: readonly string[], steps: readonly Step[]): Promise<{ transcript: string; code: number | null }> =>
  new Promise((resolve) => {
    const child = spawn("python3", [join(ROOT, "test/helpers/pty-session.py"), JSON.stringify(steps), "--", ...command], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let transcript = "";
    child.stdout.on("data", (chunk: Buffer) => { transcript += chunk.toString(); });
    child.on("close", (code) => resolve({ transcript, code }));
  });

t.test("docker run -it: an interactive shell", async (t) => {
  if (!(await requireDocker(t, [BASE_IMAGE]))) return;
  const name = uniqueName("tty");
  t.teardown(async () => { await docker(["rm", "--force", "--volumes", name]); });
  const { transcript, code } = await onPty(
    ["docker", "run", "-it", "--rm", "--name", name, "--label", E2E_LABEL, "--network", "none", ...FIXTURES_MOUNT,
      "-e", "PS1=e2e$ ", BASE_IMAGE, "-v", "--", "bash", "--norc", "-i"],
    [
      ["expect", "terminal=true"],
      ["expect", "e2e\\$ $"],
      ["send", "set -o | grep '^monitor'\n"],
      ["expect", "monitor\\s+on"],
      ["send", "sleep 100 &\n"],
      ["expect", "\\[1\\] \\d+"],
      ["send", "jobs\n"],
      ["expect", "\\[1\\]\\+\\s+Running\\s+sleep 100"],
      ["send", "kill %1; wait %1; echo killed-$?\n"],
      ["expect", "killed-143"],
      ["send", "/fixtures/sigint-count\n"],
      ["expect", "ready"],
      ["send", "\x03"],
      ["expect", "sigint=\\d"],
      ["send", "exit 0\n"],
    ],
  );
  t.equal(code, 0, transcript);
  t.match(transcript, /terminal=true/, "boxinit gave bash the terminal");
  t.notMatch(transcript, /no job control|cannot set terminal process group/, "bash has job control");
  t.match(transcript, /sigint=1\b/, "Ctrl-C reached the foreground program exactly once");
  t.notMatch(transcript, /received SIGINT|signal-forwarded/, "and boxinit not at all");
  t.match(transcript, /pty-exit=0/, "the container ended with bash's exit 0");
});

// Finds the file a command name means, the way execvp(3) does, so that "not
// found" (127) and "not executable" (126) are known before anything is spawned:
// process.execve in the terminal helper aborts instead of throwing on failure.
import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";
import { EXIT } from "./exit-code.ts";

/** The PATH execvp uses when the environment has none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export type Resolution =
  | { ok: true; file: string }
  | { ok: false; exitCode: typeof EXIT.notFound | typeof EXIT.notExecutable; reason: string };

const checkCandidate = (file: string): "ok" | "missing" | "not-executable" => {
  try {
    const stats = statSync(file);
    if (!stats.isFile()) return "not-executable";
    accessSync(file, constants.X_OK);
    return "ok";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EACCES" ? "not-executable" : "missing";
  }
};

/** Resolve argv[0] against PATH; a name with a slash is used as it is. */
export const resolveCommand = (command: string, pathVariable: string | undefined): Resolution => {
  if (command === "") return { ok: false, exitCode: EXIT.notFound, reason: "empty command name" };
  if (command.includes("/")) {
    const verdict = checkCandidate(command);
    if (verdict === "ok") return { ok: true, file: command };
    return verdict === "missing"
      ? { ok: false, exitCode: EXIT.notFound, reason: "no such file" }
      : { ok: false, exitCode: EXIT.notExecutable, reason: "not an executable file (check its mode and type)" };
  }
  let sawNotExecutable = false;
  for (const dir of (pathVariable ?? DEFAULT_PATH).split(":")) {
    // An empty PATH entry means the current directory, as in execvp.
    const candidate = join(dir === "" ? "." : dir, command);
    const verdict = checkCandidate(candidate);
    if (verdict === "ok") return { ok: true, file: candidate };
    if (verdict === "not-executable") sawNotExecutable = true;
  }
  return sawNotExecutable
    ? { ok: false, exitCode: EXIT.notExecutable, reason: "found in PATH but not executable" }
    : { ok: false, exitCode: EXIT.notFound, reason: "not found in PATH" };
};

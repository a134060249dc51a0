// Ctrl-Z in a shell: `boxinit -- CMD` started from an interactive shell is the
// shell's job, but the command runs in a process group of its own (and owns
// the terminal), so the terminal's stop signal stops the command alone and the
// shell would wait forever for a job that never stops. When boxinit is not
// PID 1 and its command is stopped by a terminal stop signal (TSTP, TTIN,
// TTOU), boxinit stops itself too: the shell sees its job stopped and gets
// the terminal back. `fg` (SIGCONT to boxinit) resumes boxinit, whose signal
// handler gives the command the terminal again and forwards SIGCONT.
// As PID 1 nothing stops: there is no shell above it to resume it.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import { SIGNAL_NUMBERS, signalLabel } from "./signals.ts";

const TERMINAL_STOPS: ReadonlySet<number> = new Set([SIGNAL_NUMBERS.SIGTSTP!, SIGNAL_NUMBERS.SIGTTIN!, SIGNAL_NUMBERS.SIGTTOU!]);

/** Stop boxinit whenever the command is stopped by a terminal stop signal, until it has ended. */
export const followTerminalStops = (native: Native, command: { pid: number }, hasEnded: () => boolean, log: Logger): void => {
  const onChildChange = (): void => {
    if (hasEnded()) {
      process.removeListener("SIGCHLD", onChildChange);
      return;
    }
    let stoppedBy: number;
    try {
      stoppedBy = native.stoppedBy(command.pid);
    } catch {
      return; // reaped meanwhile: nothing to follow
    }
    if (!TERMINAL_STOPS.has(stoppedBy)) return;
    log.info("job-control", "the command was stopped by a terminal stop signal: boxinit stops too (fg or SIGCONT resumes both)", { signal: signalLabel(stoppedBy) });
    process.kill(process.pid, "SIGSTOP");
  };
  process.on("SIGCHLD", onChildChange);
};

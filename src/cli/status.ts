// `boxinit status [--json]`: its arguments, usage text and exit codes. The
// run (read the state directory, print it) is modes/side.ts; the human view
// is control/status-format.ts.

/** Exit codes of `boxinit status` (3: "not running" in the LSB init-script convention). */
export const STATUS_EXIT = { shown: 0, usage: 2, noStatus: 3 } as const;

export const STATUS_USAGE = "usage: boxinit status [--json]\n";

/** Parse `status` argv: the options, "help", or the first argument not understood. */
export const parseStatusArgs = (args: readonly string[]): { isJson: boolean } | "help" | { unexpected: string } => {
  let isJson = false;
  for (const arg of args) {
    if (arg === "--json") isJson = true;
    else if (arg === "-h" || arg === "--help") return "help";
    else return { unexpected: arg };
  }
  return { isJson };
};

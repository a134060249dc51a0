// Waiting on a condition with a deadline, never a fixed sleep: every pollMs
// (2 ms for in-process state, 10-20 ms for files and processes a test watches).

/** Resolves once check() is true, with the ms it took; rejects with what was awaited at the deadline. */
export const waitFor = async (what: string, check: () => boolean, deadlineMs = 5000, pollMs = 2): Promise<number> => {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > deadlineMs) throw new Error(`timed out after ${deadlineMs}ms waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, pollMs));
  }
  return performance.now() - start;
};

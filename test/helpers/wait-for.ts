// Waiting in-process on a condition with a deadline, never a fixed sleep
// (for processes watched through /proc: helpers/proc.ts's waitUntil).

/** Resolves once check() is true, with the ms it took; rejects with what was awaited at the deadline. */
export const waitFor = async (what: string, check: () => boolean, deadlineMs = 5000): Promise<number> => {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > deadlineMs) throw new Error(`timed out after ${deadlineMs}ms waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 2));
  }
  return performance.now() - start;
};

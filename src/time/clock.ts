// A monotonic millisecond clock for deadlines. process.hrtime is used instead
// of performance.now() because loading perf_hooks costs PID 1 start-up time.
// A leaf: it imports nothing of boxinit's own, so every layer may keep time with it.

/** Milliseconds on a monotonic clock (not wall time: immune to clock changes). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Wait for a promise until a monotonicMs() deadline; undefined when the deadline came first. */
export const settleBefore = async <T>(promise: Promise<T>, deadline: number): Promise<T | undefined> => {
  let handle: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    handle = setTimeout(() => resolve(undefined), Math.max(0, deadline - monotonicMs()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(handle);
  }
};

/** Wait ms, or less when the signal aborts (at once if it already has). */
export const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    if (signal?.aborted) done();
    else signal?.addEventListener("abort", done, { once: true });
  });

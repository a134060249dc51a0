// A monotonic millisecond clock for deadlines. process.hrtime is used instead
// of performance.now() because loading perf_hooks costs PID 1 start-up time.

/** Milliseconds on a monotonic clock (not wall time: immune to clock changes). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

// Durations as users write them: 250ms, 9s, 5m, 1h, 30d (and combinations: 1m30s).

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Node timers fire at once beyond this (2^31-1 ms, about 596 h): every configured duration stays below. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parse a duration to milliseconds; undefined when the text is not one. */
export const parseDurationMs = (text: string): number | undefined => {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (/^\d+$/.test(trimmed)) return undefined; // a bare number has no unit: refuse rather than guess
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2]!] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
};

/** A duration for humans, as the log prints it: 9s, 250ms, 1.5s. */
export const formatDurationMs = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)}ms` : `${Number((ms / 1000).toFixed(3))}s`;

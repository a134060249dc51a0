// `log_files:` — each service's output also goes to DIR/NAME.log, rotated by
// size. Off unless the key is there; a service opts out with `log_file: false`.
import { LOG_FILES_DEFAULTS } from "./defaults.ts";
import { checkKeys, expected, readBoolean, readCount, readMap, readWritablePath, refusingNul, type Issues } from "./schema.ts";
import type { LogFilesConfig } from "./types.ts";

export const LOG_FILES_KEYS = ["dir", "max_size", "keep", "timestamps"] as const;

const UNITS: Record<string, number> = {
  "": 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
};

// A rotated file must hold at least a few long lines; 1 TiB is far above any
// log file and keeps the number exact.
const MIN_SIZE = 4096;
const MAX_SIZE = 1024 ** 4;

/** A size: 10MiB, 512KiB, 1GB, 65536 (bytes). KiB/MiB/GiB and K/M/G are powers of 1024, KB/MB/GB of 1000. */
export const parseSize = (text: string): number | undefined => {
  const match = /^(\d{1,13})\s*([a-z]*)$/i.exec(text.trim());
  const unit = match && UNITS[match[2]!.toLowerCase()];
  return unit === undefined || unit === null ? undefined : Number(match![1]) * unit;
};

const readSize = (value: unknown, path: string, issues: Issues): number | undefined => {
  if (value === undefined) return undefined;
  const bytes = typeof value === "string" ? parseSize(value) : undefined;
  if (bytes === undefined || bytes < MIN_SIZE || bytes > MAX_SIZE) return expected(issues, path, "a size from 4KiB to 1TiB such as 10MiB", value);
  return bytes;
};

const readLogDir = refusingNul(readWritablePath);

/** `log_files:`; undefined when absent (off). */
export const readLogFiles = (value: unknown, stateDir: string, issues: Issues): LogFilesConfig | undefined => {
  const entry = readMap(value, "log_files", issues, "a map with dir, max_size, keep and timestamps");
  if (value === null) expected(issues, "log_files", "a map with dir, max_size, keep and timestamps", value);
  if (!entry) return undefined;
  checkKeys(entry, LOG_FILES_KEYS, "log_files", issues);
  const keep = readCount(entry.keep, "log_files.keep", issues) ?? LOG_FILES_DEFAULTS.keep;
  if (keep > 1000) expected(issues, "log_files.keep", "at most 1000 old files", entry.keep);
  return {
    dir: readLogDir(entry.dir, "log_files.dir", issues) ?? `${stateDir}/${LOG_FILES_DEFAULTS.dirInStateDir}`,
    maxSizeBytes: readSize(entry.max_size, "log_files.max_size", issues) ?? LOG_FILES_DEFAULTS.maxSizeBytes,
    keep,
    timestamps: readBoolean(entry.timestamps, "log_files.timestamps", issues) ?? LOG_FILES_DEFAULTS.timestamps,
  };
};

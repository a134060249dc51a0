// The cost of writing a service's log file (src/log/log-file.ts) per GB of
// output, in process: the CPU time (user + system, process.cpuUsage) that
// LogFile.write takes for batches as the relay hands them (64 KiB of whole
// lines), rotation included. Relay cost itself: the relay's own scenario.
// Run: node bench/log-file-cost.ts [DIR] (DIR on the disk to measure; default a temp dir).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLogDir } from "../src/control/log-dir.ts";
import { LogFile } from "../src/log/log-file.ts";
import { Logger } from "../src/log/logger.ts";
import { loadNative } from "../src/native/addon.ts";

// The addon's line loop when it has one (BOXINIT_ADDON, else dist/boxinit.node); LOOP=js measures without it.
const { native } = loadNative({ BOXINIT_ADDON: process.env.BOXINIT_ADDON ?? join(import.meta.dirname, "../dist/boxinit.node") });
const formatLines = process.env.LOOP === "js" ? undefined : native?.lineFormatter();
console.log(`line loop: ${formatLines ? "the addon's" : "JavaScript's"}; batches of ${process.env.BATCH_BYTES ?? 65536} bytes\n`);

const base = mkdtempSync(join(process.argv[2] ?? tmpdir(), "boxinit-logbench-"));
const TOTAL_BYTES = 1024 ** 3 / 2;
const log = new Logger({ write: () => {} }, "warn");

const batchOf = (lineBytes: number): Buffer => {
  const line = `${"x".repeat(lineBytes - 1)}\n`;
  return Buffer.from(line.repeat(Math.max(1, Math.floor(Number(process.env.BATCH_BYTES ?? 65536) / lineBytes))));
};

const measure = (label: string, lineBytes: number, timestamps: boolean): string => {
  const stateDir = mkdtempSync(join(base, "state-"));
  const dir = join(stateDir, "logs", "services");
  const file = new LogFile({ name: "web", dir, maxSizeBytes: 10 * 1024 * 1024, keep: 5, timestamps, log, formatLines, openDir: () => openLogDir(dir, stateDir, undefined, true) });
  const batch = batchOf(lineBytes);
  const before = process.cpuUsage();
  const started = performance.now();
  for (let written = 0; written < TOTAL_BYTES; written += batch.length) file.write(batch, written % 3 === 0 ? "stderr" : "stdout");
  const used = process.cpuUsage(before);
  const wallS = (performance.now() - started) / 1000;
  file.close();
  rmSync(stateDir, { recursive: true, force: true });
  const perGb = (used.user + used.system) / 1e6 / (TOTAL_BYTES / 1024 ** 3);
  return `| ${label} | ${lineBytes} | ${timestamps ? "yes" : "no"} | ${perGb.toFixed(2)} | ${(used.user / 1e6 / (TOTAL_BYTES / 1024 ** 3)).toFixed(2)} | ${(TOTAL_BYTES / 1024 ** 2 / wallS).toFixed(0)} |`;
};

console.log("| case | line bytes | timestamps | CPU-s/GB | of which user | MB/s |");
console.log("|---|---|---|---|---|---|");
for (const [label, lineBytes, timestamps] of [["short lines", 100, true], ["short lines", 100, false], ["long lines", 1000, true], ["very long lines", 16384, true]] as const) {
  console.log(measure(label, lineBytes, timestamps));
}
rmSync(base, { recursive: true, force: true });

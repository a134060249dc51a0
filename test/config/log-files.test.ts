// log_files: and a service's log_file: (issue 18's configuration).
import t from "tap";
import { parseSize } from "../../src/config/log-files.ts";
import { configOf, errorsOf, textLoader } from "../helpers/config-load.ts";

const loadText = textLoader(t);

t.test("sizes: binary and decimal units, bytes without one", async (t) => {
  t.equal(parseSize("10MiB"), 10 * 1024 * 1024);
  t.equal(parseSize("10M"), 10 * 1024 * 1024);
  t.equal(parseSize("10MB"), 10_000_000);
  t.equal(parseSize("512 KiB"), 512 * 1024);
  t.equal(parseSize("65536"), 65_536);
  t.equal(parseSize("1GiB"), 1024 ** 3);
  for (const bad of ["", "MiB", "10 parsecs", "-1", "1.5MiB"]) t.equal(parseSize(bad), undefined, JSON.stringify(bad));
});

t.test("off unless written; defaults under the state directory", async (t) => {
  t.equal(configOf(await loadText("")).logFiles, undefined);
  t.same(configOf(await loadText("state_dir: /s\nlog_files: {}\n")).logFiles, { dir: "/s/logs/services", maxSizeBytes: 10 * 1024 * 1024, keep: 5, timestamps: true });
  t.same(configOf(await loadText("log_files: { dir: /var/log/box, max_size: 1MiB, keep: 2, timestamps: false }\n")).logFiles,
    { dir: "/var/log/box", maxSizeBytes: 1024 * 1024, keep: 2, timestamps: false });
});

t.test("a service opts out with log_file: false; the default is true", async (t) => {
  const config = configOf(await loadText("log_files: {}\nservices:\n  a: { command: x }\n  b: { command: y, log_file: false }\n"));
  t.same(config.services.map((service) => [service.name, service.logFile]), [["a", true], ["b", false]]);
});

t.test("bad values are named", async (t) => {
  t.same(errorsOf(await loadText("log_files: { dir: logs, max_size: 1KiB, keep: many, timestamps: yes, rotate: daily }\n")), [
    "log_files.rotate: unknown key",
    "log_files.keep: expected a whole number 0 or more, got \"many\"",
    "log_files.dir: expected an absolute path, got \"logs\"",
    "log_files.max_size: expected a size from 4KiB to 1TiB such as 10MiB, got \"1KiB\"",
    "log_files.timestamps: expected true|false, got \"yes\"",
  ]);
  t.same(errorsOf(await loadText("log_files:\n")), ["log_files: expected a map with dir, max_size, keep and timestamps, got nothing"]);
  t.same(errorsOf(await loadText("services:\n  a: { command: x, log_file: sometimes }\n")), ["services.a.log_file: expected true|false, got \"sometimes\""]);
});

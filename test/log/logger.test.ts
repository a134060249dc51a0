import t from "tap";
import { Logger, formatText, levelForVerbosity, type Sink } from "../../src/log/logger.ts";

t.test("text lines", async (t) => {
  t.equal(formatText("info", "spawned", "started", { pid: 7, command: ["sleep", "1"] }), 'boxinit: spawned: started pid=7 command=["sleep","1"]\n');
  t.equal(formatText("warn", "addon", "missing", {}), "boxinit: warning: addon: missing\n");
  t.equal(formatText("error", "exit", "bad", { reason: "two words", gone: undefined }), 'boxinit: error: exit: bad reason="two words"\n');
});

t.test("levels filter before the sink", async (t) => {
  const seen: string[] = [];
  const sink: Sink = { write: (level, event) => seen.push(`${level}:${event}`) };
  const log = new Logger(sink, levelForVerbosity(0));
  log.debug("signal-forwarded", "x");
  log.info("spawned", "x");
  log.warn("addon", "x");
  t.same(seen, ["info:spawned", "warn:addon"]);
  t.equal(levelForVerbosity(-1), "warn");
  t.equal(levelForVerbosity(2), "trace");
  t.notOk(log.isEnabled("debug"));
});

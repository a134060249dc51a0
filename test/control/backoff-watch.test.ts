import t from "tap";
import { lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, watch as fsWatch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BackoffWatch, isBackoffEntry, type BackoffWatchMode, type WatchDirectory } from "../../src/control/backoff-watch.ts";
import { dirWatchFor, watchWithFs } from "../../src/control/dir-watch.ts";
import { loadAddon } from "../helpers/addon.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitFor } from "../helpers/wait-for.ts";

// inotify mode gets no help from timers: the safety re-read and the poll for
// a missing directory are set far beyond the test's deadlines.
const NEVER_MS = 600_000;
const POLL_MS = 20;

interface Started {
  watch: BackoffWatch;
  changes: boolean[];
  recorded: ReturnType<typeof recordingLogger>;
}

// inotify mode's two ways of watching: Node's fs.watch, and the addon's own
// inotify watch (native/dir-watch.c), which boxinit uses when it has the addon.
const WATCHERS: ReadonlyArray<readonly [string, WatchDirectory]> = [["fs.watch", watchWithFs], ["the addon's", dirWatchFor(loadAddon())]];

const startWatch = async (t: { teardown(fn: () => unknown): void }, dir: string, mode: BackoffWatchMode, pollMs = mode === "poll" ? POLL_MS : NEVER_MS, watchDirectory?: WatchDirectory): Promise<Started> => {
  const recorded = recordingLogger();
  const watch = new BackoffWatch(join(dir, "backoff"), { mode, pollMs, safetyMs: NEVER_MS, ...(watchDirectory && { watchDirectory }) }, recorded.log);
  const changes: boolean[] = [];
  t.teardown(() => watch.close());
  await watch.start((engaged) => changes.push(engaged));
  return { watch, changes, recorded };
};

const engagedSoon = (started: Started, engaged: boolean, what: string): Promise<number> =>
  waitFor(`${what}: engaged=${engaged}`, () => started.watch.isEngaged() === engaged);

// ConfigMap's update: a new timestamped directory, `..data_tmp` pointing at
// it, renamed over `..data`, the old directory removed (kubelet's atomic_writer).
let generation = 0;
const configMapWrite = (dir: string, content: string, key = "backoff"): void => {
  const previous = lstatSync(join(dir, "..data"), { throwIfNoEntry: false }) ? readlinkSync(join(dir, "..data")) : undefined;
  const stamp = `..2026_11_26_10_00_00.${++generation}`;
  mkdirSync(join(dir, stamp));
  writeFileSync(join(dir, stamp, key), content);
  symlinkSync(stamp, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  if (previous !== undefined) rmSync(join(dir, previous), { recursive: true });
};

t.test("entries that can change the backoff", async (t) => {
  t.ok(isBackoffEntry("backoff"));
  t.ok(isBackoffEntry("..data"));
  t.ok(isBackoffEntry("..data_tmp"));
  t.ok(isBackoffEntry("..2026_11_26_10_00_00.123"));
  t.notOk(isBackoffEntry("status"));
  t.notOk(isBackoffEntry("status.json"));
  t.notOk(isBackoffEntry(".status.json.1.abc.tmp"));
  t.notOk(isBackoffEntry(".backoff.1.abc.tmp"));
  t.notOk(isBackoffEntry("backoff.bak"));
  t.ok(isBackoffEntry("pause", "pause"), "backoff.file's own name");
  t.notOk(isBackoffEntry("backoff", "pause"));
});

// backoff.file in a Pod: a ConfigMap mounted as its own directory, apart from
// the state directory. Both timers are out of reach (NEVER_MS), so a reaction
// can only come through the inotify watch; the watch factory records what it
// was opened on and which entries it reported.
t.test("inotify: backoff.file in a ConfigMap directory of its own, updated by a ..data swap", async (t) => {
  const base = tempDir(t);
  const control = join(base, "control");
  mkdirSync(control);
  configMapWrite(control, "false\n", "pause");
  symlinkSync("..data/pause", join(control, "pause"));
  const watched: string[] = [];
  const names: (string | null)[] = [];
  const recording: WatchDirectory = (path, listener) => {
    watched.push(path);
    return fsWatch(path, { persistent: false }, (_event, name) => {
      names.push(name);
      listener(name);
    });
  };
  const recorded = recordingLogger();
  const watch = new BackoffWatch(join(control, "pause"), { mode: "inotify", pollMs: NEVER_MS, safetyMs: NEVER_MS, watchDirectory: recording }, recorded.log);
  t.teardown(() => watch.close());
  const changes: boolean[] = [];
  await watch.start((engaged) => changes.push(engaged));
  t.same(watched, [control], "the ConfigMap's directory is watched");
  t.equal(watch.isEngaged(), false);
  configMapWrite(control, "true\n", "pause");
  await waitFor("engaged by the ..data swap", () => watch.isEngaged());
  t.ok(names.includes("..data"), "seen through the inotify event for ..data");
  configMapWrite(control, "false\n", "pause");
  await waitFor("released by the next swap", () => !watch.isEngaged());
  t.same(changes, [true, false]);
  t.same(recorded.at("warn"), [], "nothing to warn about");
});

// The seed's way, kept: STATE_DIR/backoff a symlink into a ConfigMap mounted
// elsewhere. The swap happens in the other directory; with both timers out of
// reach only a watch there can see it (before: the 5 s re-read, 4.2-4.5 s).
t.test("inotify: STATE_DIR/backoff linked into a ConfigMap directory elsewhere: the swap there is seen", async (t) => {
  const base = tempDir(t);
  const stateDir = join(base, "state");
  const control = join(base, "control");
  mkdirSync(stateDir);
  mkdirSync(control);
  configMapWrite(control, "false\n");
  symlinkSync("..data/backoff", join(control, "backoff"));
  symlinkSync(join(control, "backoff"), join(stateDir, "backoff"));
  const watched: string[] = [];
  const recording: WatchDirectory = (path, listener) => {
    watched.push(path);
    return fsWatch(path, { persistent: false }, (_event, name) => listener(name));
  };
  const recorded = recordingLogger();
  const watch = new BackoffWatch(join(stateDir, "backoff"), { mode: "inotify", pollMs: NEVER_MS, safetyMs: NEVER_MS, watchDirectory: recording }, recorded.log);
  t.teardown(() => watch.close());
  await watch.start(() => {});
  t.same(watched.sort(), [control, stateDir].sort(), "the state directory and the one the link points into");
  configMapWrite(control, "true\n");
  await waitFor("engaged by the swap in the linked directory", () => watch.isEngaged());
  // The link re-pointed to another ConfigMap directory: the watch moves with it.
  const other = join(base, "other");
  mkdirSync(other);
  configMapWrite(other, "true\n");
  symlinkSync("..data/backoff", join(other, "backoff"));
  symlinkSync(join(other, "backoff"), join(stateDir, ".backoff.new"));
  renameSync(join(stateDir, ".backoff.new"), join(stateDir, "backoff"));
  await waitFor("the new directory watched", () => watched.includes(other));
  configMapWrite(other, "false\n");
  await waitFor("released by the swap in the new directory", () => !watch.isEngaged());
});

t.test("inotify: STATE_DIR/backoff linked into a ConfigMap mounted in a subdirectory of the state directory: watched too", async (t) => {
  const stateDir = tempDir(t);
  const control = join(stateDir, "control");
  mkdirSync(control);
  configMapWrite(control, "false\n");
  symlinkSync("..data/backoff", join(control, "backoff"));
  symlinkSync("control/backoff", join(stateDir, "backoff"));
  const watched: string[] = [];
  const recording: WatchDirectory = (path, listener) => {
    watched.push(path);
    return fsWatch(path, { persistent: false }, (_event, name) => listener(name));
  };
  const watch = new BackoffWatch(join(stateDir, "backoff"), { mode: "inotify", pollMs: NEVER_MS, safetyMs: NEVER_MS, watchDirectory: recording }, recordingLogger().log);
  t.teardown(() => watch.close());
  await watch.start(() => {});
  t.same(watched.sort(), [control, stateDir].sort(), "the state directory's own watch is not recursive: the subdirectory gets one");
  configMapWrite(control, "true\n");
  await waitFor("engaged by the swap in the subdirectory", () => watch.isEngaged());
});

t.test("a dangling link or a missing directory reads as not engaged and is warned about once", async (t) => {
  const base = tempDir(t);
  const control = join(base, "control");
  const recorded = recordingLogger();
  const watch = new BackoffWatch(join(control, "backoff"), { mode: "poll", pollMs: POLL_MS }, recorded.log);
  t.teardown(() => watch.close());
  await watch.start(() => {});
  t.equal(watch.isEngaged(), false);
  t.equal(recorded.at("warn").length, 1);
  t.match(recorded.at("warn")[0], /the backoff file cannot be read: its directory .*control does not exist: not engaged until it can/);
  mkdirSync(control);
  symlinkSync("..data/backoff", join(control, "backoff"));
  await waitFor("a warning about the dangling link", () => recorded.at("warn").length === 2);
  t.match(recorded.at("warn")[1], /it is a dangling symlink/);
  configMapWrite(control, "true\n");
  await waitFor("engaged once the link resolves", () => watch.isEngaged());
  t.equal(recorded.at("warn").length, 2, "each problem said once");
});

const WAYS = [...WATCHERS.map(([name, watchDirectory]) => ({ label: `inotify (${name})`, mode: "inotify" as const, watchDirectory })), { label: "poll", mode: "poll" as const, watchDirectory: undefined }];
for (const { label, mode, watchDirectory } of WAYS) {
  t.test(`${label}: written in place`, async (t) => {
    const dir = tempDir(t);
    const started = await startWatch(t, dir, mode, undefined, watchDirectory);
    t.equal(started.watch.isEngaged(), false);
    writeFileSync(join(dir, "backoff"), "true\n");
    await engagedSoon(started, true, "created");
    writeFileSync(join(dir, "backoff"), "false\n");
    await engagedSoon(started, false, "rewritten");
    writeFileSync(join(dir, "backoff"), "true\n");
    await engagedSoon(started, true, "rewritten again");
    t.same(started.changes, [true, false, true], "one call per change of the value");
  });

  t.test(`${label}: replaced by rename`, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "backoff"), "false\n");
    const started = await startWatch(t, dir, mode, undefined, watchDirectory);
    writeFileSync(join(dir, ".backoff.new"), "true\n");
    renameSync(join(dir, ".backoff.new"), join(dir, "backoff"));
    await engagedSoon(started, true, "renamed over");
    writeFileSync(join(dir, ".backoff.new"), "false\n");
    renameSync(join(dir, ".backoff.new"), join(dir, "backoff"));
    await engagedSoon(started, false, "renamed over again");
    t.same(started.changes, [true, false]);
  });

  t.test(`${label}: deleted and recreated`, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "backoff"), "true\n");
    const started = await startWatch(t, dir, mode, undefined, watchDirectory);
    t.equal(started.watch.isEngaged(), true, "true at start");
    t.same(started.changes, [], "the value at start is not a change");
    unlinkSync(join(dir, "backoff"));
    await engagedSoon(started, false, "deleted");
    writeFileSync(join(dir, "backoff"), "true\n");
    await engagedSoon(started, true, "recreated");
    t.same(started.changes, [false, true]);
  });

  t.test(`${label}: ConfigMap ..data swap`, async (t) => {
    const dir = tempDir(t);
    configMapWrite(dir, "false\n");
    symlinkSync("..data/backoff", join(dir, "backoff"));
    const started = await startWatch(t, dir, mode, undefined, watchDirectory);
    t.equal(started.watch.isEngaged(), false);
    configMapWrite(dir, "true\n");
    await engagedSoon(started, true, "..data swapped to true");
    configMapWrite(dir, "false\n");
    await engagedSoon(started, false, "..data swapped to false");
    t.same(started.changes, [true, false]);
  });

  t.test(`${label}: state directory missing at start, then created`, async (t) => {
    const base = tempDir(t);
    const dir = join(base, "docker");
    const started = await startWatch(t, dir, mode, POLL_MS, watchDirectory);
    t.equal(started.watch.isEngaged(), false);
    mkdirSync(dir);
    writeFileSync(join(dir, "backoff"), "true\n");
    await engagedSoon(started, true, "written into the new directory");
    if (mode === "inotify") {
      // Watching by now: later changes are seen however slow polling is.
      await waitFor("the watcher to start", () => started.recorded.lines.some((line) => /watching the backoff file.s directory/.test(line)));
    }
    writeFileSync(join(dir, "backoff"), "false\n");
    await engagedSoon(started, false, "rewritten");
  });

  t.test(`${label}: state directory removed and recreated while watched`, async (t) => {
    const base = tempDir(t);
    const dir = join(base, "docker");
    mkdirSync(dir);
    const started = await startWatch(t, dir, mode, POLL_MS, watchDirectory);
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    writeFileSync(join(dir, "backoff"), "true\n");
    await engagedSoon(started, true, "written into the recreated directory");
    writeFileSync(join(dir, "backoff"), "false\n");
    await engagedSoon(started, false, "rewritten");
  });

  t.test(`${label}: unexpected content warned once per distinct content`, async (t) => {
    const dir = tempDir(t);
    const started = await startWatch(t, dir, mode, undefined, watchDirectory);
    const warnings = (): string[] => started.recorded.at("warn");
    writeFileSync(join(dir, "backoff"), "ture\n");
    await waitFor("a warning about ture", () => warnings().length === 1);
    t.match(warnings()[0], /backoff: unexpected content in the backoff file: not engaged.* content=ture/);
    writeFileSync(join(dir, "backoff"), "ture\n");
    writeFileSync(join(dir, "backoff"), "yes\n");
    await waitFor("a warning about yes", () => warnings().length === 2);
    t.match(warnings()[1], /content=yes/);
    writeFileSync(join(dir, "backoff"), "true\n");
    await engagedSoon(started, true, "then true");
    t.equal(warnings().length, 2, "ture was not warned about twice");
    t.same(started.changes, [true]);
  });
}

t.test("inotify that cannot start falls back to polling", async (t) => {
  const dir = tempDir(t);
  const recorded = recordingLogger();
  const noWatches = Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), { code: "ENOSPC" });
  const watch = new BackoffWatch(join(dir, "backoff"), { mode: "inotify", pollMs: POLL_MS, safetyMs: NEVER_MS, watchDirectory: () => { throw noWatches; } }, recorded.log);
  t.teardown(() => watch.close());
  await watch.start(() => {});
  t.equal(recorded.at("warn").length, 1);
  t.match(recorded.at("warn")[0], /cannot watch the backoff file.s directory: polling the backoff file every 20ms instead.*hint=/);
  writeFileSync(join(dir, "backoff"), "true\n");
  await waitFor("engaged by polling", () => watch.isEngaged());
});

t.test("a watcher error later also falls back to polling", async (t) => {
  const dir = tempDir(t);
  const recorded = recordingLogger();
  let failWatcher: (() => void) | undefined;
  const failingLater: WatchDirectory = (path, listener) => {
    const watcher = fsWatch(path, { persistent: false }, (_event, name) => listener(name));
    failWatcher = () => watcher.emit("error", Object.assign(new Error("inotify broke"), { code: "EIO" }));
    return watcher;
  };
  const watch = new BackoffWatch(join(dir, "backoff"), { mode: "inotify", pollMs: POLL_MS, safetyMs: NEVER_MS, watchDirectory: failingLater }, recorded.log);
  t.teardown(() => watch.close());
  await watch.start(() => {});
  t.equal(recorded.at("warn").length, 0);
  failWatcher?.();
  t.equal(recorded.at("warn").length, 1);
  writeFileSync(join(dir, "backoff"), "true\n");
  await waitFor("engaged by polling", () => watch.isEngaged());
});

t.test("inotify mode's safety re-read catches what inotify did not report", async (t) => {
  const dir = tempDir(t);
  const recorded = recordingLogger();
  // A watcher that never reports anything stands in for a mount where inotify is blind.
  const blind: WatchDirectory = (path) => fsWatch(path, { persistent: false }, () => {});
  const watch = new BackoffWatch(join(dir, "backoff"), { mode: "inotify", pollMs: NEVER_MS, safetyMs: 30, watchDirectory: blind }, recorded.log);
  t.teardown(() => watch.close());
  await watch.start(() => {});
  writeFileSync(join(dir, "backoff"), "true\n");
  await waitFor("engaged by the safety re-read", () => watch.isEngaged());
});

t.test("an unreadable backoff keeps the last value and is warned about once", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "backoff"), "true\n");
  const started = await startWatch(t, dir, "poll");
  unlinkSync(join(dir, "backoff"));
  mkdirSync(join(dir, "backoff"));
  await waitFor("a warning", () => started.recorded.at("warn").length === 1);
  t.match(started.recorded.at("warn")[0], /cannot read the backoff file: keeping the last value/);
  t.equal(started.watch.isEngaged(), true);
  rmSync(join(dir, "backoff"), { recursive: true });
  await engagedSoon(started, false, "removed");
  t.equal(started.recorded.at("warn").length, 1);
});

for (const [name, watchDirectory] of WATCHERS) {
  t.test(`close stops everything (${name})`, async (t) => {
    const dir = tempDir(t);
    const started = await startWatch(t, dir, "inotify", NEVER_MS, watchDirectory);
    // A witness on the same directory, open across the write: once it has
    // reported the change, the closed watch would have too (the kernel queues
    // one event for every watch of the directory within the write).
    const witness = await startWatch(t, dir, "inotify", NEVER_MS, watchDirectory);
    await started.watch.close();
    writeFileSync(join(dir, "backoff"), "true\n");
    await waitFor("the witness reports the write", () => witness.changes.length > 0);
    t.same(witness.changes, [true], "the write happened and was reported");
    t.same(started.changes, [], "nothing reported after close");
    t.equal(started.watch.isEngaged(), false);
  });
}

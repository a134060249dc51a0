// backoff: (file, on_engage) and probe: (port) — the keys that drive a box from
// outside, as in a Pod (SPEC section 11).
import t from "tap";
import { configOf, errorsOf, textLoader } from "../helpers/config-load.ts";

const loadText = textLoader(t);

t.test("backoff.file defaults to STATE_DIR/backoff and follows state_dir", async (t) => {
  t.match(configOf(await loadText("state_dir: /srv/state\n")), { backoffFile: "/srv/state/backoff", backoffOnEngage: "exit" });
  t.match(configOf(await loadText("state_dir: /s\n", { overrides: { stateDir: "/flag" } })), { backoffFile: "/flag/backoff" }, "--state-dir moves it too");
});

t.test("backoff.file and on_engage as written; BOXINIT_* variables win", async (t) => {
  const text = "backoff: { file: /etc/boxinit-control/backoff, on_engage: idle }\n";
  t.match(configOf(await loadText(text)), { backoffFile: "/etc/boxinit-control/backoff", backoffOnEngage: "idle" });
  const env = { BOXINIT_BACKOFF_FILE: "/env/control/backoff", BOXINIT_BACKOFF_ON_ENGAGE: "exit" };
  t.match(configOf(await loadText(text, { env })), { backoffFile: "/env/control/backoff", backoffOnEngage: "exit" });
});

t.test("bad backoff keys are named with what was expected", async (t) => {
  t.same(errorsOf(await loadText("backoff: { file: control/backoff, on_engage: sleep, pol_interval: 1s }\n")), [
    "backoff.pol_interval: unknown key (did you mean \"poll_interval\"?)",
    "backoff.file: expected an absolute path, got \"control/backoff\"",
    "backoff.on_engage: expected exit|idle, got \"sleep\"",
  ]);
  t.same(errorsOf(await loadText("backoff: { file: /proc/1/backoff }\n")), ["backoff.file: expected a path outside /proc and /sys, got \"/proc/1/backoff\""]);
  t.same(errorsOf(await loadText("", { env: { BOXINIT_BACKOFF_ON_ENGAGE: "later" } })), ["BOXINIT_BACKOFF_ON_ENGAGE: expected exit|idle, got \"later\""]);
});

t.test("probe is off unless a port is given; the port is checked", async (t) => {
  t.equal(configOf(await loadText("")).probePort, undefined);
  t.equal(configOf(await loadText("probe: { port: 8099 }\n")).probePort, 8099);
  t.equal(configOf(await loadText("", { env: { BOXINIT_PROBE_PORT: "9000" } })).probePort, 9000);
  for (const port of ["0", "65536", "http", "-1", "80.5"]) {
    t.same(errorsOf(await loadText(`probe: { port: "${port}" }\n`)), [`probe.port: expected a port number from 1 to 65535, got "${port}"`], port);
  }
  t.same(errorsOf(await loadText("probe: { prot: 1 }\n")), ["probe.prot: unknown key (did you mean \"port\"?)"]);
});

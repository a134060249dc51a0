// The Mini-VM boot up to "every service tried": init scripts (in order, until
// one fails), links, then the services in `after:` order, each started once
// the ones it comes after are ready. A stop asked for meanwhile ends the boot
// where it is; modes/mini-vm.ts decides what follows.
import type { Logger } from "../log/logger.ts";
import type { Native } from "../native/addon.ts";
import type { Reaper } from "../pid1/reaper.ts";
import { EXIT, exitCodeFor, type Ending } from "../pid1/exit-code.ts";
import type { Config } from "../config/types.ts";
import { makeLinks } from "./links.ts";
import { listScripts, runScripts } from "./scripts.ts";
import type { Service } from "./service.ts";

export interface BootContext {
  native: Native | undefined;
  reaper: Reaper;
  log: Logger;
  /** Whether a stop was asked for: nothing more is started then. */
  isStopping: () => boolean;
  /** Resolves once a stop is asked for. */
  stopped: Promise<unknown>;
}

/** An init script running now: a stop that comes during the boot stops it first. */
export interface InitScriptTracker {
  current?: { pid: number; ended: Promise<Ending> } | undefined;
}

/** How the boot ended: every service tried (readiness per service), failed, or cut short by a stop. */
export type BootResult = { kind: "up"; readiness: boolean[] } | { kind: "failed"; code: number; why: string } | { kind: "stopped" };

// Init scripts, then links; a failure is the boot's.
const prepare = async (config: Pick<Config, "initDir" | "links">, context: BootContext, initScript: InitScriptTracker): Promise<BootResult | undefined> => {
  const { native, reaper, log } = context;
  const failedScript = await runScripts(listScripts(config.initDir, log), { native, reaper, log, kind: "init" }, (started) => {
    initScript.current = started;
    void started.ended.then(() => {
      if (initScript.current === started) initScript.current = undefined;
    });
  }, context.isStopping);
  if (context.isStopping()) return { kind: "stopped" };
  if (failedScript) {
    const code = "ending" in failedScript ? exitCodeFor(failedScript.ending) : failedScript.exitCode;
    return { kind: "failed", code, why: `init script ${failedScript.file} failed with exit code ${code}` };
  }
  const linkProblems = makeLinks(config.links, log);
  if (linkProblems.length === 0) return undefined;
  for (const problem of linkProblems) log.error("link", problem);
  return { kind: "failed", code: EXIT.unavailable, why: linkProblems[0]! };
};

/** Run the boot; resolves once every service was tried (or the boot failed or was stopped). */
export const bootServices = async (
  config: Pick<Config, "initDir" | "links">,
  services: readonly Service[],
  context: BootContext,
  initScript: InitScriptTracker,
): Promise<BootResult> => {
  const prepared = await prepare(config, context, initScript);
  if (prepared) return prepared;
  const byName = new Map(services.map((service) => [service.name, service]));
  const stopped = context.stopped.then(() => undefined);
  for (const service of services) {
    const needs = service.config.after.map((name) => byName.get(name)!);
    const readiness = await Promise.race([Promise.all(needs.map((need) => need.ready)), stopped]);
    if (context.isStopping() || readiness === undefined) return { kind: "stopped" };
    const missing = needs.filter((_, index) => !readiness[index]);
    if (missing.length > 0) {
      const names = missing.map((need) => need.name).join(", ");
      return { kind: "failed", code: EXIT.unavailable, why: `service ${service.name} comes after ${names}, which did not come up` };
    }
    service.start();
  }
  const readiness = await Promise.race([Promise.all(services.map((service) => service.ready)), stopped]);
  if (context.isStopping() || readiness === undefined) return { kind: "stopped" };
  return { kind: "up", readiness };
};

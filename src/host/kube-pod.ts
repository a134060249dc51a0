// The pod template shared by the service's workload and a batch book's
// CronJob: the container's argv and environment, the control ConfigMap's
// directory, the volumes, the securityContext and the stop budget.
import type { Container, PodSecurityContext, PodSpec, SecurityContext, EnvVar } from "kubernetes-types/core/v1.js";
import type { Config } from "../config/types.ts";
import type { Book } from "./book-types.ts";
import { CONTROL_DIR, GRACE_MARGIN_S, type ImageUser, type KubeInputs } from "./kube-types.ts";
import { volumeMounts, type BoxVolume } from "./kube-volumes.ts";

/**
 * How the box reacts to backoff in a Pod: idle (exit would end the container,
 * and restartPolicy Always would start it again: a crash loop). Not for a
 * job (it only exits), nor for a box without a config: a tini-style run
 * refuses idle (exit 2 at every start), as it has no boot to run again.
 */
export type BackoffReaction = "idle" | "job" | "no-config";

/** The variables host kube sets itself: the backoff file in the ConfigMap's directory, and how a Pod reacts to it. */
const controlEnv = (reaction: BackoffReaction): Record<string, string> => ({
  BOXINIT_BACKOFF_FILE: `${CONTROL_DIR}/backoff`,
  ...(reaction === "idle" && { BOXINIT_BACKOFF_ON_ENGAGE: "idle" }),
});

/** The book's env, then host kube's own (which win; a book that sets them differently is told). */
export const containerEnv = (book: Book, reaction: BackoffReaction, warnings: string[]): EnvVar[] => {
  const own = controlEnv(reaction);
  if (reaction === "no-config") {
    warnings.push("the box has no config: a tini-style run cannot idle on backoff, it exits and the Pod starts it again; give the image a config (even one without services) to idle");
  }
  const env: EnvVar[] = [];
  for (const [name, value] of Object.entries(book.env)) {
    if (Object.hasOwn(own, name)) {
      if (value !== own[name]) warnings.push(`env.${name}: replaced by ${JSON.stringify(own[name])} in the manifests (the control ConfigMap's directory)`);
      continue;
    }
    env.push({ name, value });
  }
  return [...env, ...Object.entries(own).map(([name, value]) => ({ name, value }))];
};

/** Kubernetes' command is Docker's ENTRYPOINT, its args the CMD. */
export const containerArgv = (book: Book): Pick<Container, "command" | "args"> => {
  const command = book.command ?? [];
  if (book.entrypoint === true) return { command };
  if (book.entrypoint === false) return book.command === undefined ? {} : { args: command };
  return { command: book.entrypoint, ...(command.length > 0 && { args: command }) };
};

/** The whole argv the container runs, when the book says it (the image's ENTRYPOINT is not known here). */
export const processWords = (book: Book): string[] =>
  book.entrypoint === false ? book.command ?? [] : book.entrypoint === true ? book.command ?? [] : [...book.entrypoint, ...(book.command ?? [])];

/** The value of `--config` among boxinit's own options in the book's argv (before `--`), if any. */
export const configFlagOf = (book: Book): string | undefined => {
  const words = processWords(book);
  const end = words.indexOf("--");
  const options = end === -1 ? words : words.slice(0, end);
  for (const [index, word] of options.entries()) {
    if (word === "--config") return options[index + 1];
    if (word.startsWith("--config=")) return word.slice("--config=".length);
  }
  return undefined;
};

// The variables that make boxinit choose Mini-VM mode (cli/init.ts whyMiniVm).
const MINI_VM_VARIABLES = ["BOXINIT_CONFIG", "BOXINIT_INIT_DIR", "BOXINIT_FINISH_DIR"];

/**
 * Whether the container's boxinit runs Mini-VM mode, as cli/init.ts decides,
 * from what the book and the image say: a config file found, `--config` in
 * the argv, or a variable that selects it. (An init.d or finish.d in the
 * image without any config is not looked for: such a box is taken for
 * tini-style and told so in a warning.)
 */
export const runsMiniVm = (book: Book, config: Config): boolean =>
  config.source !== undefined || configFlagOf(book) !== undefined || MINI_VM_VARIABLES.some((name) => Boolean(book.env[name]));

/** Whether the box switches users: that needs root in the container. */
const switchesUsers = (config: Config): boolean => [...config.services, ...config.jobs].some((entry) => entry.user !== undefined);

export interface SecurityContexts {
  pod: PodSecurityContext;
  container: SecurityContext;
  /** Why the restricted profile was or was not met, for the manifests' header. */
  note: string;
}

/**
 * Restricted (Pod Security Standards) when the image's USER is a known
 * non-root uid and no service or job switches users; else what baseline
 * accepts: boxinit as root switches users itself, which needs its capabilities.
 */
export const securityContexts = (imageUser: ImageUser, config: Config): SecurityContexts => {
  const seccompProfile = { type: "RuntimeDefault" };
  if (imageUser.kind === "non-root" && !switchesUsers(config)) {
    const { uid, gid } = imageUser;
    return {
      pod: { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: gid, seccompProfile },
      container: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      note: `restricted: the image runs as uid ${uid} and no service switches users`,
    };
  }
  const why = imageUser.kind === "non-root"
    ? "a service or job of the box switches users, which needs root"
    : imageUser.kind === "root" ? "the image runs as root" : `the image's user is unknown (${imageUser.why})`;
  return { pod: { seccompProfile }, container: { allowPrivilegeEscalation: false }, note: `baseline, not restricted: ${why}` };
};

/** Kubernetes' SIGKILL comes this long after SIGTERM: boxinit's grace, a margin, and never less than the book's Docker stop timeout. */
export const terminationGraceSeconds = (book: Book, config: Config): number =>
  Math.max(Math.ceil(config.graceMs / 1000) + GRACE_MARGIN_S, book.stopTimeoutS ?? 0);

/** A refused stop_timeout: Docker would SIGKILL the box before its own deadline, and so would the manifests' copy of it. */
export const stopTimeoutProblem = (book: Book, config: Config): string | undefined => {
  if (book.stopTimeoutS === undefined || book.stopTimeoutS * 1000 > config.graceMs) return undefined;
  return `stop_timeout: expected more than the box's grace (${config.graceMs / 1000}s), got ${book.stopTimeoutS}s: the engine would kill the box before its own deadline; raise stop_timeout or lower grace`;
};

export interface PodParts {
  container: Container;
  volumes: PodSpec["volumes"];
}

/** The pod spec around one container; hostNetwork when the book asks for the host's network. */
export const podSpec = (inputs: KubeInputs, parts: PodParts, security: SecurityContexts): PodSpec => ({
  ...(inputs.book.network === "host" && { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }),
  terminationGracePeriodSeconds: terminationGraceSeconds(inputs.book, inputs.config),
  securityContext: security.pod,
  containers: [{ ...parts.container, securityContext: security.container }],
  volumes: [{ name: "control", configMap: { name: `${kubeName(inputs.book)}-control` } }, ...(parts.volumes ?? [])],
});

/** The mounts: the control ConfigMap's directory (read-only), then the book's volumes. */
export const mountsOf = (volumes: readonly BoxVolume[]): Container["volumeMounts"] => [
  { name: "control", mountPath: CONTROL_DIR, readOnly: true },
  ...volumeMounts(volumes),
];

/** The objects' name: kube.name, else the book's name made a Kubernetes name (book-kube.ts checks it can be). */
export const kubeName = (book: Book): string => book.kube?.name ?? book.name.replace(/[._]/g, "-");

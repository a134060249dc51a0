// `boxinit host VERB BOOK [options]`: the host-side tool's command line and
// usage text. The run (load the book, the verb, errors to exit codes) is
// modes/host.ts.
import { parseDurationMs } from "../config/duration.ts";

export const HOST_USAGE = `usage: boxinit host VERB BOOK [options]

  run BOOK [--dry-run]      create and start NAME-production from IMAGE:run
                            (--dry-run: print the equivalent docker run line)
  promote BOOK [--rollback] tag IMAGE:latest as IMAGE:run, keeping the old one
                            as IMAGE:previous (--rollback: swap run and previous)
  cron BOOK [--run]         the cron wrapper: running or backoff -> nothing;
                            exited 0 -> remove; failed -> save logs, remove;
                            --run: then start the next run
  status BOOK [--json]      the container and the state directory (exit 3: not running)
  backoff BOOK on|off [--wait] [--timeout D]
                            write HOME/backoff; --wait: until status is backedoff
  kube BOOK [--out DIR] [--image REF] [--config FILE]
                            Kubernetes manifests for the book (IMAGE:run pinned
                            by digest, the box's config read from the image)
  logs BOOK [SERVICE] [-n N] [-f]
                            a service's log file in HOME/logs/services (no engine;
                            without SERVICE: the services that have one)

The engine: DOCKER_HOST, else /var/run/docker.sock.
Exit codes: 0 ok, 1 failed, 2 usage or bad book, 3 already running (run) /
not running (status), 4 backoff engaged (run), 5 --wait timed out,
10 no engine, 11 permission denied, 12 image not found, 13 name conflict,
14 port in use.
`;

/** Each verb's flags; a flag not listed for the verb is a usage error. */
const VERB_FLAGS = {
  run: ["--dry-run"],
  promote: ["--rollback"],
  cron: ["--run"],
  status: ["--json"],
  backoff: ["--wait"],
  kube: [],
} as const;

/** Each verb's options that take a value (`--out DIR` or `--out=DIR`). */
const VERB_VALUES: Partial<Record<Verb, readonly string[]>> = { backoff: ["--timeout"], kube: ["--out", "--image", "--config"] };

type Verb = keyof typeof VERB_FLAGS;
type ValueOption = "--timeout" | "--out" | "--image" | "--config";

export interface HostArgs {
  verb: Verb;
  bookPath: string;
  flags: Set<string>;
  /** backoff: on|off */
  word?: "on" | "off";
  /** backoff --timeout */
  timeoutMs?: number;
  /** kube --out DIR, --image REF, --config FILE */
  outDir?: string;
  imageRef?: string;
  configPath?: string;
}

/** `--name VALUE` or `--name=VALUE` at argv[index], when it is one of the verb's valued options. */
const valueOption = (verb: Verb, rest: readonly string[], index: number): { option: ValueOption; value: string | undefined; next: number } | undefined => {
  const arg = rest[index]!;
  const option = VERB_VALUES[verb]?.find((name) => arg === name || arg.startsWith(`${name}=`)) as ValueOption | undefined;
  if (option === undefined) return undefined;
  return arg === option ? { option, value: rest[index + 1], next: index + 1 } : { option, value: arg.slice(option.length + 1), next: index };
};

const KUBE_FIELDS = { "--out": "outDir", "--image": "imageRef", "--config": "configPath" } as const;

const isVerb = (word: string | undefined): word is Verb => word !== undefined && Object.hasOwn(VERB_FLAGS, word);

/** Parse `host` argv (pure); a string is the usage error to print. */
export const parseHostArgs = (argv: readonly string[]): HostArgs | "help" | string => {
  if (argv.length === 0 || argv.includes("-h") || argv.includes("--help")) return "help";
  const [verb, ...rest] = argv;
  // logs is parsed by cli/logs.ts (its own arguments), but it is a verb like the others.
  if (!isVerb(verb)) return `unknown verb ${JSON.stringify(verb)}: expected ${[...Object.keys(VERB_FLAGS), "logs"].join(", ")}`;
  const positional: string[] = [];
  const flags = new Set<string>();
  let timeoutMs: number | undefined;
  const values: Partial<Record<"outDir" | "imageRef" | "configPath", string>> = {};
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index]!;
    const valued = valueOption(verb, rest, index);
    if (valued?.option === "--timeout") {
      index = valued.next;
      timeoutMs = valued.value === undefined ? undefined : parseDurationMs(valued.value);
      if (timeoutMs === undefined || timeoutMs === 0) return `--timeout: expected a duration above 0 such as 90s or 5m, got ${JSON.stringify(valued.value ?? "nothing")}`;
    } else if (valued !== undefined) {
      index = valued.next;
      if (valued.value === undefined || valued.value === "") return `${verb}: ${valued.option}: expected a value, got nothing`;
      values[KUBE_FIELDS[valued.option]] = valued.value;
    } else if (arg.startsWith("-") && arg !== "-") {
      if (!(VERB_FLAGS[verb] as readonly string[]).includes(arg)) return `${verb}: unknown option ${JSON.stringify(arg)}`;
      flags.add(arg);
    } else positional.push(arg);
  }
  const wanted = verb === "backoff" ? 2 : 1;
  const [bookPath, word] = positional;
  if (bookPath === undefined) return `${verb}: expected a book file (YAML)`;
  if (positional.length > wanted) return `${verb}: unexpected argument ${JSON.stringify(positional[wanted])}`;
  if (verb === "backoff" && word !== "on" && word !== "off") return `backoff: expected on or off after the book, got ${JSON.stringify(word ?? "nothing")}`;
  if (timeoutMs !== undefined && !flags.has("--wait")) return "backoff: --timeout only goes with --wait";
  return {
    verb, bookPath, flags,
    ...(verb === "backoff" && { word: word as "on" | "off" }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...values,
  };
};

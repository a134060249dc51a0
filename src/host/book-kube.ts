// A book's `kube:` key: what `boxinit host kube` needs that Docker does not
// (object names, the kind of volumes, claim sizes, and for a batch book its
// CronJob schedule). Read strictly, like the book's other keys.
import { checkKeys, expected, isMap, keyPath, readChoice, readDuration, readText, type Issues } from "../config/schema.ts";
import type { KubeSettings } from "./book-types.ts";

const KUBE_KEYS = ["name", "volumes", "storage_class", "size", "schedule", "timezone", "starting_deadline"] as const;
const SCHEDULE_ONLY = ["timezone", "starting_deadline"] as const;

// A Service's name is a DNS-1035 label; 52 leaves room for `-control` and the
// claims' suffixes within 63, and is a CronJob's own limit (its Jobs add 11).
const KUBE_NAME = /^[a-z](?:[a-z0-9-]{0,50}[a-z0-9])?$/;
const KUBE_NAME_HINT = "a Kubernetes name: lowercase letters, digits and -, starting with a letter, not ending with -, at most 52";
// A StorageClass is a DNS subdomain.
const SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
// A storage quantity as the API takes it: 500Mi, 10Gi, 1T.
const QUANTITY = /^(?:[1-9]\d{0,15})(?:\.\d+)?(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
// Five cron fields (Kubernetes' CronJob takes no seconds field) or one of its macros.
const CRON_FIELD = "[0-9A-Za-z*/,?-]+";
const SCHEDULE = new RegExp(`^(?:${CRON_FIELD}(?: +${CRON_FIELD}){4}|@(?:yearly|annually|monthly|weekly|daily|midnight|hourly))$`);

export const DEFAULT_CLAIM_SIZE = "10Gi";
export const DEFAULT_STARTING_DEADLINE_S = 300;

/** The book's name as a Kubernetes name: `_` and `.` become `-` (undefined when that is still not one). */
export const kubeNameOf = (bookName: string): string | undefined => {
  const name = bookName.replace(/[._]/g, "-");
  return KUBE_NAME.test(name) ? name : undefined;
};

const readKubeName = (value: unknown, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && KUBE_NAME.test(value)) return value;
  return expected(issues, "kube.name", KUBE_NAME_HINT, value);
};

const readPattern = (value: unknown, pattern: RegExp, path: string, what: string, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && pattern.test(value)) return value;
  return expected(issues, path, what, value);
};

/** An IANA time zone, as the CronJob's timeZone takes it; Intl knows the same database. */
const readTimeZone = (value: unknown, issues: Issues): string | undefined => {
  const zone = readText(value, "kube.timezone", issues, "an IANA time zone such as Europe/Berlin");
  if (zone === undefined) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return expected(issues, "kube.timezone", "an IANA time zone such as Europe/Berlin", zone);
  }
};

/** Whole seconds of a positive duration (a CronJob counts in seconds). */
const readSeconds = (value: unknown, path: string, issues: Issues): number | undefined => {
  const ms = readDuration(value, path, issues, true);
  if (ms === undefined) return undefined;
  if (ms % 1000 === 0) return ms / 1000;
  return expected(issues, path, "whole seconds, such as 5m or 90s", value);
};

/** `kube:` (optional): the settings, with their defaults where the generator needs one. */
export const readKube = (value: unknown, issues: Issues): KubeSettings | undefined => {
  if (value === undefined) return undefined;
  if (!isMap(value)) return expected(issues, "kube", "a map with name, volumes, storage_class, size, schedule, timezone, starting_deadline", value);
  checkKeys(value, KUBE_KEYS, "kube", issues);
  const name = readKubeName(value.name, issues);
  const volumes = value.volumes === undefined ? "claim" : readChoice(value.volumes, ["claim", "host"] as const, "kube.volumes", issues);
  const storageClass = readPattern(value.storage_class, SUBDOMAIN, "kube.storage_class", "a StorageClass name (lowercase letters, digits, - and .)", issues);
  const size = readPattern(value.size, QUANTITY, "kube.size", "a storage size such as 500Mi or 10Gi", issues);
  const schedule = readPattern(value.schedule, SCHEDULE, "kube.schedule", 'a cron schedule of five fields such as "0 3 * * *", or @daily, @hourly, ...', issues);
  const timeZone = readTimeZone(value.timezone, issues);
  const startingDeadlineS = readSeconds(value.starting_deadline, "kube.starting_deadline", issues);
  if (value.schedule === undefined) {
    for (const key of SCHEDULE_ONLY) {
      if (value[key] !== undefined) issues.errors.push(`${keyPath("kube", key)}: only goes with kube.schedule (a batch book's CronJob)`);
    }
  }
  if (volumes === "host" && (value.storage_class !== undefined || value.size !== undefined)) {
    issues.warnings.push("kube.storage_class and kube.size: ignored with kube.volumes host (hostPath volumes are the node's directories)");
  }
  if (volumes === undefined) return undefined;
  return {
    volumes,
    ...(name !== undefined && { name }),
    ...(storageClass !== undefined && { storageClass }),
    ...(size !== undefined && { size }),
    ...(schedule !== undefined && { schedule }),
    ...(timeZone !== undefined && { timeZone }),
    ...(startingDeadlineS !== undefined && { startingDeadlineS }),
  };
};

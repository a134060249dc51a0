// A book's keys for the container's network: port (published ports),
// network, hostname.
import { checkKeys, expected, isMap, keyPath, readChoice, readList, type Issues } from "../config/schema.ts";
import type { PortMapping } from "./book-types.ts";

const PORT_KEYS = ["src", "dst", "protocol"] as const;
const PORT_HINT = "a port number 1-65535";
const HOSTNAME_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME_PATTERN = new RegExp(`^${HOSTNAME_LABEL}(?:\\.${HOSTNAME_LABEL})*$`);

/** A port number as written: digits only, and no leading zero (YAML 1.1 tools read 010 as octal 8). */
const readPortNumber = (value: unknown, path: string, issues: Issues): number | undefined => {
  if (typeof value === "string" && /^[1-9]\d{0,4}$/.test(value) && Number(value) <= 65535) return Number(value);
  return expected(issues, path, PORT_HINT, value);
};

/** One `port:` entry, or undefined when any part of it is wrong. */
const readPortEntry = (entry: unknown, path: string, issues: Issues): PortMapping | undefined => {
  if (!isMap(entry)) return expected(issues, path, "a map with src and dst", entry);
  checkKeys(entry, PORT_KEYS, path, issues);
  const src = readPortNumber(entry.src, keyPath(path, "src"), issues);
  const dst = readPortNumber(entry.dst, keyPath(path, "dst"), issues);
  const protocol = entry.protocol === undefined ? "tcp" : readChoice(entry.protocol, ["tcp", "udp"] as const, keyPath(path, "protocol"), issues);
  if (src === undefined || dst === undefined || protocol === undefined) return undefined;
  return { src, dst, protocol };
};

/** `port:` the published ports; a host port (per protocol) can be published once. */
export const readPorts = (value: unknown, issues: Issues): PortMapping[] => {
  const ports: PortMapping[] = [];
  const firstIndex = new Map<string, number>();
  for (const [index, entry] of readList(value, "port", issues, "a list of {src, dst} maps").entries()) {
    const path = `port[${index}]`;
    const port = readPortEntry(entry, path, issues);
    if (port === undefined) continue;
    const key = `${port.src}/${port.protocol}`;
    const earlier = firstIndex.get(key);
    if (earlier === undefined) {
      firstIndex.set(key, index);
      ports.push(port);
    } else {
      expected(issues, `${path}.src`, `a host port not already published by port[${earlier}]`, String(port.src));
    }
  }
  return ports;
};

/** `network:` none, host, bridge or a user-defined network's name. */
export const readNetwork = (value: unknown, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && /^\S+$/.test(value)) return value;
  return expected(issues, "network", "a Docker network name (none, host, bridge or your own)", value);
};

/** `hostname:` RFC 1123 labels. */
export const readHostname = (value: unknown, issues: Issues): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.length <= 253 && HOSTNAME_PATTERN.test(value)) return value;
  return expected(issues, "hostname", "a hostname of letters, digits and -, in labels of at most 63 joined by . (at most 253)", value);
};

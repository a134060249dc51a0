// A book's keys for what the container is and runs: name, image, entrypoint,
// command. Readers in the style of config/schema.ts: each reports its own
// problems in `issues` and returns undefined for a value that is wrong.
import { expected, readCommand, type Issues } from "../config/schema.ts";
import type { Book } from "./book-types.ts";

// At most 52 so that `<name>-production` is one DNS label (63), as a container
// name must be to serve as its network alias; lowercase because the name is
// also the default image repository.
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,51}$/;
const NAME_HINT = "a name of lowercase letters, digits, _ . - starting with a letter or digit (at most 52)";

// Docker's reference grammar (distribution/reference), without tag or digest:
// an optional registry host[:port]/, then lowercase path components.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPOSITORY_PATTERN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`,
);
const REPOSITORY_HINT = "a Docker repository such as boxinit/confluence or registry.example.com:5000/team/app";
const TAG_HINT = "a repository without a tag (boxinit manages :latest, :run and :previous)";

const ENTRYPOINT_HINT = "true, false, or a list of strings (the ENTRYPOINT argv)";

/** `name:` (required): the container is `<name>-production`. */
export const readName = (value: unknown, issues: Issues): string | undefined => {
  if (typeof value === "string" && NAME_PATTERN.test(value)) return value;
  return expected(issues, "name", NAME_HINT, value);
};

/** `image:`, or the name when absent: a repository, since boxinit owns the tags. */
export const readImage = (value: unknown, name: string | undefined, issues: Issues): string | undefined => {
  if (value === undefined) {
    // The name pattern allows some names that are not repositories ("app.", "a..b").
    if (name === undefined || REPOSITORY_PATTERN.test(name)) return name;
    return expected(issues, "image", `${REPOSITORY_HINT} (the default, the name ${JSON.stringify(name)}, is not one)`, value);
  }
  if (typeof value !== "string") return expected(issues, "image", REPOSITORY_HINT, value);
  // Only the last component can hold a tag: in `localhost:5000/app` the colon is the registry's port.
  const lastComponent = value.slice(value.lastIndexOf("/") + 1);
  if (value.includes("@") || lastComponent.includes(":")) return expected(issues, "image", TAG_HINT, value);
  if (REPOSITORY_PATTERN.test(value)) return value;
  return expected(issues, "image", REPOSITORY_HINT, value);
};

/** `entrypoint:` true, false or an argv; no string form, which would hide a second `sh -c`. */
export const readEntrypoint = (value: unknown, issues: Issues): boolean | string[] | undefined => {
  if (value === undefined) return false;
  if (value === "true" || value === "false") return value === "true";
  if (Array.isArray(value) && value.length > 0) return readCommand(value, "entrypoint", issues);
  return expected(issues, "entrypoint", ENTRYPOINT_HINT, value);
};

/** `command:` an argv (`[]`: no arguments) or a string for `sh -c`; entrypoint true makes it required. */
export const readBookCommand = (value: unknown, entrypoint: Book["entrypoint"] | undefined, issues: Issues): string[] | undefined => {
  const command = Array.isArray(value) && value.length === 0 ? [] : readCommand(value, "command", issues);
  // A command that was written but is invalid is already reported.
  const isMissing = value === undefined || command?.length === 0;
  if (entrypoint === true && isMissing) {
    issues.errors.push(`command: expected the command that replaces the entrypoint (entrypoint is true), got ${value === undefined ? "nothing" : "an empty list"}`);
  }
  return command;
};

// Users and groups for `user:`/`group:`: pure parsers of /etc/passwd and
// /etc/group text and the lookup that turns a name or id into a UserSpec.
// No getpwnam: the SEA has no libc binding for it, and the files are what Docker reads too.
import type { UserSpec } from "./types.ts";

/** One line of /etc/passwd (the fields boxinit needs). */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One line of /etc/group. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The tables a lookup reads, and the file names its messages cite. */
export interface UserTables {
  passwd: PasswdEntry[];
  groups: GroupEntry[];
  passwdFile: string;
  groupFile: string;
}

/** What a service asked for, as written. */
export interface UserRequest {
  user: string;
  group?: string;
}

export type UserLookup = { ok: true; user: UserSpec } | { ok: false; key: "user" | "group"; message: string };

const ID = /^\d{1,10}$/;

const toId = (text: string | undefined): number | undefined =>
  text !== undefined && ID.test(text) && Number(text) <= 0xffff_fffe ? Number(text) : undefined;

/** Data lines of a colon file; comments, blanks and NIS `+`/`-` lines skipped. */
const dataLines = (text: string): string[][] =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "" && !/^[#+-]/.test(line))
    .map((line) => line.replace(/\r$/, "").split(":"));

/** Parse /etc/passwd text; malformed lines are skipped, as libc does. */
export const parsePasswd = (text: string): PasswdEntry[] =>
  dataLines(text).flatMap(([name, , uidText, gidText, , home]) => {
    const uid = toId(uidText);
    const gid = toId(gidText);
    if (!name || uid === undefined || gid === undefined) return [];
    return [{ name, uid, gid, home: home || "/" }];
  });

/** Parse /etc/group text; malformed lines are skipped. */
export const parseGroup = (text: string): GroupEntry[] =>
  dataLines(text).flatMap(([name, , gidText, members]) => {
    const gid = toId(gidText);
    if (!name || gid === undefined) return [];
    return [{ name, gid, members: (members ?? "").split(",").filter((member) => member !== "") }];
  });

/** By name first, then by number (a numeric name is legal, and runc looks names up first too). */
const findEntry = <T extends { name: string }>(entries: T[], text: string, idOf: (entry: T) => number): T | undefined =>
  entries.find((entry) => entry.name === text) ?? entries.find((entry) => idOf(entry) === toId(text));

/**
 * Resolve `user:` (and `group:`) like `docker run --user`: a name must exist;
 * a number that is not in the file is still used, with gid 0 and HOME `/`, as
 * Docker does for arbitrary uids (OpenShift style). Supplementary groups are
 * the primary gid plus every group listing the user as a member, as
 * initgroups(3)/gosu do; with `group:` that group replaces the primary gid.
 */
export const resolveUser = (request: UserRequest, tables: UserTables): UserLookup => {
  const entry = findEntry(tables.passwd, request.user, (user) => user.uid);
  const uid = entry?.uid ?? toId(request.user);
  if (uid === undefined) {
    return { ok: false, key: "user", message: `no such user ${JSON.stringify(request.user)} in ${tables.passwdFile}` };
  }
  let gid = entry?.gid ?? 0;
  if (request.group !== undefined) {
    const group = findEntry(tables.groups, request.group, (candidate) => candidate.gid);
    const groupGid = group?.gid ?? toId(request.group);
    if (groupGid === undefined) {
      return { ok: false, key: "group", message: `no such group ${JSON.stringify(request.group)} in ${tables.groupFile}` };
    }
    gid = groupGid;
  }
  const name = entry?.name ?? request.user;
  const memberOf = tables.groups.filter((group) => group.members.includes(name)).map((group) => group.gid);
  const groups = [...new Set([gid, ...memberOf])];
  return { ok: true, user: { name, uid, gid, groups, home: entry?.home ?? "/" } };
};

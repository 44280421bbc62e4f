import { randomUUID } from "node:crypto";
import type { MailStore, StoredUser } from "./store";
import type { GraphGroupSeed } from "./types";

/** A directory group as GET /groups lists it; a test may change it (the directory changed). */
export interface StoredGroup {
  id: string;
  displayName: string;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  proxyAddresses: string[];
  /**
   * Its direct members: object ids of users and of nested groups (a key no object has yet is kept as given and
   * resolved when listed: a user id, UPN or mail, or the id of a group added later).
   */
  members: string[];
}

/** A directory object a group reaches through its members: a person, or a nested group. */
export type GroupMember = { kind: "user"; user: StoredUser } | { kind: "group"; group: StoredGroup };

/** A group from its seed: mail-enabled when it has a mail address, with `SMTP:<mail>` as its proxy address. */
export function newGroup(seed: GraphGroupSeed): StoredGroup {
  const mail = seed.mail ?? null;
  const mailEnabled = seed.mailEnabled ?? mail !== null;
  return {
    id: seed.id ?? randomUUID(),
    displayName: seed.displayName,
    mail,
    mailEnabled,
    securityEnabled: !mailEnabled,
    proxyAddresses: seed.proxyAddresses ?? (mailEnabled && mail ? [`SMTP:${mail}`] : []),
    members: [],
  };
}

/** The object id a member key names: a group's id, a user's id, UPN or mail; the key itself when nothing has it yet. */
export function memberIdOf(store: MailStore, key: string): string {
  if (store.groups.has(key)) return key;
  return store.findUserByIdUpnOrMail(key)?.id ?? key;
}

/** Adds direct members (user ids, UPNs or mail, nested group ids); one already there is not added twice. */
export function addMembers(store: MailStore, group: StoredGroup, keys: readonly string[]): void {
  for (const id of keys.map((key) => memberIdOf(store, key)))
    if (!group.members.includes(id)) group.members.push(id);
}

/** Removes direct members; someone who is also in a nested group stays a transitive member, as in Entra. */
export function removeMembers(store: MailStore, group: StoredGroup, keys: readonly string[]): void {
  const gone = new Set(keys.flatMap((key) => [key, memberIdOf(store, key)]));
  group.members = group.members.filter((id) => !gone.has(id));
}

/**
 * Everything a group reaches through its members and theirs, as GET /groups/{id}/transitiveMembers lists it: each
 * user and each nested group once (a cycle is cut), direct members first. Users deleted from the directory are no
 * one's members any more.
 */
export function transitiveMembersOf(store: MailStore, root: StoredGroup): GroupMember[] {
  const seen = new Set<string>([root.id]);
  const found: GroupMember[] = [];
  const queue: StoredGroup[] = [root];
  for (let group = queue.shift(); group; group = queue.shift()) {
    for (const key of group.members) {
      const nested = store.groups.get(key);
      const user = nested ? undefined : store.findUserByIdUpnOrMail(key);
      const id = nested?.id ?? user?.id;
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      if (nested) {
        found.push({ kind: "group", group: nested });
        queue.push(nested);
      } else if (user) found.push({ kind: "user", user });
    }
  }
  return found;
}

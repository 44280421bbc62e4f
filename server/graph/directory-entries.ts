import type { DirectoryPerson } from "../commands/users/directory-person";
import type { DirectoryGroup } from "../commands/users/directory-groups";
import { canonicalAddress, domainOfAddress } from "../mail/scan/domains";

/** A user as `GET /users` lists them (the properties the sync selects). */
export interface DirectoryUser {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  proxyAddresses?: string[] | null;
}

/** A mail-enabled group as `GET /groups` lists it (the properties the sync selects). */
export interface DirectoryGroupEntry {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  proxyAddresses?: string[] | null;
}

/**
 * The `smtp:` proxy addresses of a directory object (X500, SIP and the like are not mail), canonical (lower case, an
 * internationalised domain in punycode, as the gateway looks recipients up), the primary marked.
 */
function smtpAddressesOf(proxyAddresses: readonly string[] | null | undefined) {
  return (proxyAddresses ?? [])
    .filter((p) => /^smtp:/i.test(p))
    .map((p) => ({ primary: p.startsWith("SMTP:"), address: canonicalAddress(p.slice(5).trim()) }))
    .filter((p) => p.address.includes("@"));
}

/**
 * The person a directory user is for the gateway, or null when they have no mailbox in the organisation's
 * domains (no `mail`, or a guest's outside address). Their primary address is the `SMTP:` proxy address
 * (else `mail`); their aliases are the other `smtp:` ones in the organisation's domains.
 */
export function directoryPersonOf(user: DirectoryUser, domains: ReadonlySet<string>): DirectoryPerson | null {
  const inDomains = (address: string) => domains.has(domainOfAddress(address));
  const smtp = smtpAddressesOf(user.proxyAddresses);
  const primary = smtp.find((p) => p.primary)?.address ?? canonicalAddress(user.mail?.trim() ?? "");
  if (!primary || !inDomains(primary)) return null;
  const aliases = [...new Set(smtp.map((p) => p.address))].filter((a) => a !== primary && inDomains(a));
  const displayName = user.displayName?.trim() || primary.split("@")[0] || primary;
  return { oid: user.id, primary, displayName, aliases: aliases.sort() };
}

/**
 * A mail-enabled group's addresses in the organisation's domains (its `mail` and its `smtp:` proxy addresses), or
 * null when it has none there.
 */
export function directoryGroupOf(
  group: DirectoryGroupEntry,
  domains: ReadonlySet<string>,
): DirectoryGroup | null {
  const all = [
    canonicalAddress(group.mail?.trim() ?? ""),
    ...smtpAddressesOf(group.proxyAddresses).map((p) => p.address),
  ];
  const addresses = [...new Set(all)]
    .filter((a) => a.includes("@") && domains.has(domainOfAddress(a)))
    .sort();
  if (addresses.length === 0) return null;
  return { oid: group.id, displayName: group.displayName?.trim() || addresses[0] || group.id, addresses };
}

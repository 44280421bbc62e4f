import { createHash } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { verifiedOwnerOf } from "../../db/verified-domains";
import { domainOfAddress } from "../../mail/scan/domains";

/** Whose an address is: a person's primary address, a person's alias, or a group's (in whichever organisation). */
export type AddressOwner =
  | { kind: "user"; userId: string; tenantId: string; entraOid: string | null }
  | { kind: "alias"; userId: string; tenantId: string }
  | { kind: "group"; groupOid: string; tenantId: string };

/**
 * The owner of a lower-case address, or null when it is nobody's. The gateway must always know whose mail an
 * address is, so an address belongs to one person or one group at most: every writer asks here first. A partner's
 * agent may hold the vendor's address in several organisations; then the person of `preferTenantId` (the
 * organisation asking) is the answer, else the oldest account, so the answer never depends on the rows' order.
 * Another organisation's person is no owner of an address in a domain the asking organisation has verified: the
 * domain's addresses are its own (as invitations hold: refuseAddressInOtherOrganisationDomain), and an account left
 * there from before (made before the proof, or kept after that organisation removed the domain) must not keep its
 * people from their address. Aliases and groups' addresses are one row each on the server, so they still count.
 * A writer calls claimAddresses first: without it, two transactions could both hear "nobody" and both commit.
 */
export async function addressOwner(
  trx: Transaction<Database>,
  address: string,
  preferTenantId?: string,
): Promise<AddressOwner | null> {
  let people = trx
    .selectFrom("users")
    .select(["id", "tenant_id", "entra_oid"])
    .where(sql`lower(email)`, "=", address);
  if (preferTenantId) people = people.orderBy(sql`tenant_id = ${preferTenantId}`, "desc");
  const user = await people.orderBy("created_at").orderBy("id").executeTakeFirst();
  const othersInOwnDomain =
    user !== undefined &&
    preferTenantId !== undefined &&
    user.tenant_id !== preferTenantId &&
    (await verifiedOwnerOf(trx, domainOfAddress(address))) === preferTenantId;
  if (user && !othersInOwnDomain)
    return { kind: "user", userId: user.id, tenantId: user.tenant_id, entraOid: user.entra_oid };
  const alias = await trx
    .selectFrom("user_addresses")
    .select(["user_id", "tenant_id"])
    .where("address", "=", address)
    .executeTakeFirst();
  if (alias) return { kind: "alias", userId: alias.user_id, tenantId: alias.tenant_id };
  const group = await trx
    .selectFrom("group_addresses")
    .select(["group_oid", "tenant_id"])
    .where("address", "=", address)
    .executeTakeFirst();
  return group ? { kind: "group", groupOid: group.group_oid, tenantId: group.tenant_id } : null;
}

/**
 * The advisory lock key of one address's claim: 64 bits of a SHA-256 over a namespaced key, so keys hardly collide.
 * Exported for the tests that hold a claim's lock themselves.
 */
export function addressClaimKey(address: string): bigint {
  return createHash("sha256")
    .update(`address_claim:${address.trim().toLowerCase()}`)
    .digest()
    .readBigInt64BE(0);
}

/**
 * Serialises the claims of these addresses (an account's primary address, an alias, a group's address) until the
 * transaction ends, on both engines: a second transaction claiming one of them waits here for the first to commit,
 * then its addressOwner sees the first's row and refuses as it would have later. No index can do this: an address
 * is a row in one of three tables, and users.email is unique within an organisation only (a partner's agent holds
 * the vendor's address in several organisations). Every writer calls
 * it before addressOwner and before it locks other rows (audit_heads: appendAudit), all of a transaction's
 * addresses at once: the locks are taken in one order (by key), so two claimers never wait for each other.
 * PGlite runs one transaction at a time, where the locks are simply granted.
 */
export async function claimAddresses(trx: Transaction<Database>, addresses: Iterable<string>): Promise<void> {
  const keys = [...new Set([...addresses].map(addressClaimKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) await sql`SELECT pg_advisory_xact_lock(${key.toString()}::bigint)`.execute(trx);
}

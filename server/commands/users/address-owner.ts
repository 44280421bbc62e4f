import { createHash } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { verifiedOwnerOf } from "../../db/verified-domains";
import { domainOfAddress } from "../../mail/scan/domains";
import { lockedOwnerOf } from "../tenants/domains";

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
 * Past this many addresses a transaction takes the one lock of every claim instead of a lock each: PostgreSQL's lock
 * table is shared and bounded (max_locks_per_transaction × max_connections, 6,400 by default), and a first group
 * sync of a large organisation can add thousands of addresses at once.
 */
export const BULK_CLAIM = 64;
/** The lock of every claim: shared by each claim of a few addresses, exclusive for a bulk one. No address is "*". */
const ALL_CLAIMS_KEY = addressClaimKey("*");

/**
 * Serialises the claims of these addresses (an account's primary address, an alias, a group's address) until the
 * transaction ends, on both engines: a second transaction claiming one of them waits here for the first to commit,
 * then its addressOwner sees the first's row and refuses as it would have later. No index can do this: an address
 * is a row in one of three tables, and users.email is unique within an organisation only (a partner's agent holds
 * the vendor's address in several organisations). Every writer calls it once, before addressOwner and before it
 * locks other rows (audit_heads: appendAudit), with all of the transaction's addresses: the locks are taken in one
 * order (the lock of every claim, then by key), so two claimers never wait for each other. More than BULK_CLAIM
 * addresses take the lock of every claim alone, exclusively: such a claim waits for the claims in flight, and new
 * ones wait for it. PGlite runs one transaction at a time, where the locks are simply granted.
 */
export async function claimAddresses(trx: Transaction<Database>, addresses: Iterable<string>): Promise<void> {
  const keys = [...new Set([...addresses].map(addressClaimKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length === 0) return;
  if (keys.length > BULK_CLAIM) {
    await sql`SELECT pg_advisory_xact_lock(${ALL_CLAIMS_KEY.toString()}::bigint)`.execute(trx);
    return;
  }
  await sql`SELECT pg_advisory_xact_lock_shared(${ALL_CLAIMS_KEY.toString()}::bigint)`.execute(trx);
  for (const key of keys) await sql`SELECT pg_advisory_xact_lock(${key.toString()}::bigint)`.execute(trx);
}

/**
 * Locks the domains of addresses a transaction is about to give (lockedOwnerOf, in name order, before it claims
 * them) and tells which are still the organisation's verified domains. The directory sync filters a round's addresses
 * by the domains it read when the round began; a domain removed since must not get new people or addresses (the
 * removal counted none and went), and a removal now waits for the transaction, then finds what it gave.
 */
export async function lockOwnDomains(
  trx: Transaction<Database>,
  tenantId: string,
  addresses: Iterable<string>,
): Promise<(address: string) => boolean> {
  const own = new Set<string>();
  for (const domain of [...new Set([...addresses].map(domainOfAddress))].sort()) {
    if ((await lockedOwnerOf(trx, domain)) === tenantId) own.add(domain);
  }
  return (address) => own.has(domainOfAddress(address));
}

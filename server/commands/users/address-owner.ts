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

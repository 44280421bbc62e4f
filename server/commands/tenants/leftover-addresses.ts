import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { auditActor } from "../../context";
import { systemActor } from "../../auth/actor";

/** An alias dropLeftoverAliases took: its address, and the person and organisation it was of. */
export interface LeftoverAlias {
  address: string;
  tenant_id: string;
  user_id: string;
}

/**
 * Once an organisation has proved (or been given) `domain`, the other organisations' other addresses (aliases) in it
 * are taken away: they are left from an organisation that had the domain before (a disabled person's, which its
 * removal did not count) and no longer take mail there, but an alias is one row on the server (its address is the
 * key), so each would keep the domain's new owner from giving that address to its own people for good. The people
 * stay as they are (their history and audit with them); each removal is audited in the person's own organisation's
 * log as user.address_removed by `system:domain-proved-elsewhere` (auditLeftoverAliases), not naming who proved it.
 * Runs in the proof's transaction, under the domain's lock (lockedOwnerOf), which every writer of an address in the
 * domain takes first. Returns what it took, in address order.
 */
export async function dropLeftoverAliases(
  trx: Transaction<Database>,
  owner: string,
  domain: string,
): Promise<LeftoverAlias[]> {
  const dropped = await trx
    .deleteFrom("user_addresses")
    .where(sql`split_part(address, '@', 2)`, "=", domain)
    .where("tenant_id", "!=", owner)
    .returning(["address", "tenant_id", "user_id"])
    .execute();
  return dropped.sort((x, y) => (x.address < y.address ? -1 : 1));
}

/** Audits each alias dropLeftoverAliases took, in its organisation's log (whose lock the caller holds already). */
export async function auditLeftoverAliases(
  trx: Transaction<Database>,
  dropped: LeftoverAlias[],
  now: Date,
): Promise<void> {
  for (const { address, tenant_id, user_id } of dropped) {
    const person = await trx.selectFrom("users").select("email").where("id", "=", user_id).executeTakeFirst();
    await appendAudit(trx, {
      tenantId: tenant_id,
      ...auditActor(systemActor(tenant_id, "domain-proved-elsewhere")),
      action: "user.address_removed",
      targetType: "user",
      targetId: user_id,
      details: { email: person?.email ?? null, address, reason: "proved_by_another_organisation" },
      ip: null,
      at: now,
    });
  }
}

import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { runCommand, type Actor, type Services } from "../../context";
import { systemActor } from "../../auth/actor";
import { addressOwner, claimAddresses, lockOwnDomains } from "./address-owner";
import { auditDirectoryChange } from "./directory-audit";

/** A mail-enabled group as the directory lists it, its addresses already checked against the organisation's domains. */
export interface DirectoryGroup {
  oid: string;
  displayName: string;
  /** Its SMTP addresses in the organisation's domains, lower case. */
  addresses: string[];
}

/** What a groups round changed, and the addresses it left out because they are a person's. */
export interface DirectoryGroupsOutcome {
  added: number;
  removed: number;
  taken: string[];
}

function audit(
  trx: Transaction<Database>,
  actor: Actor,
  now: Date,
  action: "group.address_added" | "group.address_removed" | "group.renamed",
  group: { oid: string; displayName: string },
  address: string,
  extra: Record<string, unknown> = {},
): Promise<unknown> {
  return auditDirectoryChange(trx, actor, now, {
    action,
    targetType: "group",
    targetId: group.oid,
    details: { group: group.displayName, address, ...extra },
  });
}

/**
 * Makes the organisation's group addresses what the directory lists, in one transaction with their audit events:
 * addresses of groups gone (or of another group now) are removed, new ones added unless they are a person's
 * (primary or alias), which stay the person's. Called with the complete listing only: a failed listing must not
 * look like every group was deleted.
 */
export async function applyDirectoryGroups(
  services: Services,
  tenantId: string,
  groups: readonly DirectoryGroup[],
): Promise<DirectoryGroupsOutcome> {
  const actor = systemActor(tenantId, "directory-sync");
  return runCommand(services, actor, null, async ({ trx, now }) => {
    const wanted = new Map<string, DirectoryGroup>();
    for (const group of groups)
      for (const address of group.addresses) if (!wanted.has(address)) wanted.set(address, group);
    const current = await trx
      .selectFrom("group_addresses")
      .select(["address", "group_oid", "display_name"])
      .where("tenant_id", "=", tenantId)
      .execute();
    // The addresses this round may add (those of a domain removed since the round began are left out), claimed at
    // once and before the first audit event locks the organisation's log.
    const held = new Set(current.map((row) => `${row.group_oid} ${row.address}`));
    const adding = [...wanted]
      .filter(([address, group]) => !held.has(`${group.oid} ${address}`))
      .map(([address]) => address);
    const own = await lockOwnDomains(trx, tenantId, adding);
    for (const address of adding) if (!own(address)) wanted.delete(address);
    await claimAddresses(trx, adding.filter(own));
    const outcome: DirectoryGroupsOutcome = { added: 0, removed: 0, taken: [] };
    const kept = new Set<string>();
    for (const row of current) {
      const group = wanted.get(row.address);
      if (group?.oid === row.group_oid) {
        kept.add(row.address);
        if (group.displayName !== row.display_name) {
          await trx
            .updateTable("group_addresses")
            .set({ display_name: group.displayName })
            .where("address", "=", row.address)
            .execute();
          await audit(trx, actor, now, "group.renamed", group, row.address, { before: row.display_name });
        }
        continue;
      }
      await trx.deleteFrom("group_addresses").where("address", "=", row.address).execute();
      await audit(
        trx,
        actor,
        now,
        "group.address_removed",
        { oid: row.group_oid, displayName: row.display_name },
        row.address,
      );
      outcome.removed += 1;
    }
    for (const [address, group] of wanted) {
      if (kept.has(address)) continue;
      if (await addressOwner(trx, address, tenantId)) {
        outcome.taken.push(address);
        continue;
      }
      await trx
        .insertInto("group_addresses")
        .values({ address, tenant_id: tenantId, group_oid: group.oid, display_name: group.displayName })
        .execute();
      await audit(trx, actor, now, "group.address_added", group, address);
      outcome.added += 1;
    }
    return outcome;
  });
}
